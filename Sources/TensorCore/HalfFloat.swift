/// IEEE 754 binary16 conversion, written out so it works on every platform (Swift's `Float16`
/// is missing on macOS/x86_64).
enum HalfFloat {
    /// The Float value of half-precision bits; exact (every binary16 value is a binary32 value),
    /// including subnormals, infinities and NaN.
    static func float(fromBits h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int((h >> 10) & 0x1F)
        let fraction = UInt32(h & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: fraction × 2^-24.
            let magnitude = Float(fraction) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (fraction << 13))
        }
        return Float(bitPattern: sign | (UInt32(exponent - 15 + 127) << 23) | (fraction << 13))
    }
}
