import TensorKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Matrix {
    /// Which inner kernel ``multiply(_:transposingA:_:transposingB:)`` uses on this CPU.
    public enum Kernel: String, Sendable {
        /// The C kernel with AVX2 and FMA instructions (4 × 16 tiles, the last columns of a row
        /// masked, fused multiply-adds).
        case avx2FMA = "avx2+fma"
        /// The portable Swift SIMD kernel (4 × 8 tiles), for CPUs without AVX2 and FMA.
        case portable
    }

    /// The kernel chosen for this CPU, once, at the first product: AVX2+FMA when CPUID reports
    /// both, the portable one otherwise (or when `FUSEBOX_KERNEL=portable` asks for it, to compare).
    public static let kernel: Kernel = {
        if let forced = getenv("FUSEBOX_KERNEL"), String(cString: forced) == Kernel.portable.rawValue {
            return .portable
        }
        return tk_cpu_has_avx2_fma() != 0 ? .avx2FMA : .portable
    }()

    /// The number of cores a product may be split across: the processors online, at least 1.
    /// The split runs on Dispatch's shared pool, which never runs more threads than cores, so a
    /// product computed inside work already spread over the cores does not oversubscribe them.
    public static let processorCount = Swift.max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))

    /// The number of multiply-adds (`m·n·k`) from which a product is split across cores: below it,
    /// waking a second core costs more than it saves.
    ///
    /// Measured on the concat-MLP head's training batches (256 × 20 · 20 × 128 is 655,360): splitting
    /// them at 2¹⁵ or 2¹⁷ made an epoch 5–10 % slower than computing them on one core.
    public static let parallelWork = 1 << 20
}

/// The operands of one product `C = op(A) · B`, as raw pointers, so row blocks can be computed by
/// different threads; each block writes only its own rows of `C`.
struct Operands: @unchecked Sendable {
    let n: Int
    let k: Int
    let a: UnsafePointer<Float>
    let rowStep: Int
    let strideA: Int
    let b: UnsafePointer<Float>
    let c: UnsafeMutablePointer<Float>

    /// Computes rows `range` of `C` with the CPU's kernel.
    func rows(_ range: Range<Int>) {
        if Matrix.kernel == .avx2FMA {
            tk_sgemm_rows_avx2(n, k, a, rowStep, strideA, b, c, range.lowerBound, range.upperBound)
        } else {
            portableRows(range)
        }
    }

    /// The portable kernel: 4-row × 8-column tiles of `C` in SIMD registers over the whole inner
    /// dimension, so each load of `B` serves four rows and each output element is stored once.
    /// When the width is not a multiple of 8 the last tile overlaps the previous one (recomputing
    /// identical values); a width below 8 is computed element by element.
    func portableRows(_ range: Range<Int>) {
        if n < 8 {
            for i in range {
                for j in 0..<n {
                    var acc: Float = 0
                    for p in 0..<k { acc += a[i * rowStep + p * strideA] * b[p * n + j] }
                    c[i * n + j] = acc
                }
            }
            return
        }
        let tiles = Array(stride(from: 0, to: n - 7, by: 8)) + (n % 8 == 0 ? [] : [n - 8])
        let rowBytes = n * MemoryLayout<Float>.stride
        var i = range.lowerBound
        while i + 4 <= range.upperBound {
            let a0 = a + i * rowStep
            for j in tiles {
                var (c0, c1, c2, c3) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
                var bp = UnsafeRawPointer(b + j)
                var ap = a0
                for _ in 0..<k {
                    let bv = bp.loadUnaligned(as: SIMD8<Float>.self)
                    c0 += ap[0] * bv
                    c1 += ap[rowStep] * bv
                    c2 += ap[2 * rowStep] * bv
                    c3 += ap[3 * rowStep] * bv
                    bp += rowBytes
                    ap += strideA
                }
                let ci = UnsafeMutableRawPointer(c + i * n + j)
                ci.storeBytes(of: c0, as: SIMD8<Float>.self)
                (ci + rowBytes).storeBytes(of: c1, as: SIMD8<Float>.self)
                (ci + 2 * rowBytes).storeBytes(of: c2, as: SIMD8<Float>.self)
                (ci + 3 * rowBytes).storeBytes(of: c3, as: SIMD8<Float>.self)
            }
            i += 4
        }
        while i < range.upperBound {
            for j in tiles {
                var acc = SIMD8<Float>()
                var bp = UnsafeRawPointer(b + j)
                for p in 0..<k {
                    acc += a[i * rowStep + p * strideA] * bp.loadUnaligned(as: SIMD8<Float>.self)
                    bp += rowBytes
                }
                UnsafeMutableRawPointer(c + i * n + j).storeBytes(of: acc, as: SIMD8<Float>.self)
            }
            i += 1
        }
    }
}
