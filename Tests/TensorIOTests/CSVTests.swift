import Testing

@testable import TensorCore
@testable import TensorIO

struct CSVTests {
    @Test func headerAndLabelColumn() throws {
        let table = try CSVTable.parse("a,b,label\n0.1,0.9,1\r\n0.7,0.3,0\n\n", path: "x.csv", labelColumn: "label")
        #expect(table.columns == ["a", "b"])
        #expect(table.matrix.values == [0.1, 0.9, 0.7, 0.3])
        #expect(table.labels == [1, 0])
    }

    @Test func noHeaderIsDetected() throws {
        let table = try CSVTable.parse("1, 2\n3, 4\n", path: "x.csv")
        #expect(table.columns == ["c0", "c1"])
        #expect(table.matrix.rows == 2)
        #expect(try CSVTable.parse("1,2\n3,4\n", path: "x.csv", labelColumn: "0").labels == [1, 3])
    }

    @Test func raggedRowsNameTheLine() {
        #expect {
            try CSVTable.parse("a,b\n1,2\n3\n", path: "bad.csv")
        } throws: { "\($0)" == "'bad.csv': line 3 has 1 cells, expected 2 (ragged rows)" }
    }

    @Test func nonNumericCellsNameLineAndColumn() {
        #expect {
            try CSVTable.parse("a,b\n1,2\n3,x\n", path: "bad.csv")
        } throws: { "\($0)" == "'bad.csv': line 3, column 2: 'x' is not a number" }
        #expect(throws: TensorIOError.self) { try CSVTable.parse("", path: "bad.csv") }
        #expect(throws: TensorIOError.self) { try CSVTable.parse("a,b\n1,2\n", path: "bad.csv", labelColumn: "y") }
    }
}
