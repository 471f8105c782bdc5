import Foundation
import FuseboxTestSupport
import Testing

@testable import TensorIO

/// Inputs the fuzzers (Fuzz/run.sh) found crashing, kept as regression tests.
struct FuzzRegressionTests {
    /// An .npz whose member header claims 0x8000000000000000-odd bytes: the reader reserved that
    /// much memory up front. Now the claim is checked against what the compressed data can hold.
    @Test func npzMemberClaimingAnAbsurdSizeIsRefused() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("crash.npz")
        try writeBytes(
            [UInt8](
                Data(
                    base64Encoded:
                        "UEsDBC0AAAAAAAAAIQBP6QAq//////////8JABQAaW1hZ2UubnB5AQAQAJgAAAAAAAAAmAAAAAAAAACTTlVNUFkBAHYAeydkZXNjcic6ICc8ZjgnJ2YsIG9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgCgAAAAAAAIA/AAAAQAAAQEAAAIBAAACgQFBLAwQtAAAAAAAAACEAdKjzMP//////////CgAUAGxhYmVscy5ucHkBABAAmAAAAAAAAACYAAAAAAAAAJNOVU1QWQEAdgB7J2Rlc2NyJzogJzxpOCcsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgzLCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgKSAgICAgICAgICAgICAgICAKAQAAAAAAAAD+/////////wMAAAAAAAAAUEsBAi0DLQD6AAAAAAAhAE/pACqYAAAAmAAAAAkAAAAAAAAAAAAAAIABAAAAAGltYWdlLm5weVBLAQItAy0AAAAAAEAAIQB0qPMwmAAAAJgAAAAKAAAAAAAAAAAAAACAAdMAAABsYWJlbHMubnB5UEsFBgAAAAACAAIAbwAAAKcBAAAAAA=="
                )!
            ),
            to: path
        )
        #expect(throws: TensorIOError.self) { try NumPyArchive.read(path: path) }
    }

    /// Zip end records pointing past the end of the archive. Held in memory, ZIPFoundation's
    /// archive traps on these (its memory file seeks past the end and reads a negative count),
    /// which is why the reader only ever opens `.npz` files from disk; through a file they read
    /// as archives without arrays (or are refused), and nothing traps.
    @Test(arguments: ["UEuPiFBLBQYAAAA4DycsICdmb3J0cmFuAAAA", "UG5weVBLBQYAAAAxC7AHEg5ABMQZpwEAAABG"])
    func npzEndRecordPointingPastTheEndDoesNotTrap(base64: String) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("crash.npz")
        try writeBytes([UInt8](Data(base64Encoded: base64)!), to: path)
        let arrays = try? NumPyArchive.read(path: path)
        #expect(arrays?.isEmpty ?? true)
    }
}
