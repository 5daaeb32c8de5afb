import Foundation
import Testing
@testable import BalanceReport

@Suite struct ReportWriterTests {
    @Test func publishingCreatesTheFolderInOneStep() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out").path
        let writer = try ReportWriter(destination: out)
        try writer.write("p/clients/c.csv", Array("x".utf8))
        #expect(!FileManager.default.fileExists(atPath: out), "nothing appears before publishing")
        try writer.publish()
        #expect(try String(contentsOfFile: out + "/p/clients/c.csv", encoding: .utf8) == "x")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp.url.path) == ["out"])
    }

    @Test func anUnpublishedWriterLeavesNoTrace() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        _ = try temp.file("keep.txt", "old")
        do {
            let writer = try ReportWriter(destination: temp.url.appendingPathComponent("out").path)
            try writer.write("a.csv", [1, 2, 3])
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp.url.path) == ["keep.txt"])
    }

    @Test(arguments: ["../escape.csv", "a/../../b", "/etc/passwd", "a//b", ".", "a/./b", ""])
    func unsafeRelativePathsAreRefused(path: String) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let writer = try ReportWriter(destination: temp.url.appendingPathComponent("out").path)
        #expect(throws: OutputError.self) { try writer.write(path, [1]) }
    }

    @Test func twoFilesWithOneNameAreAnErrorNotAnOverwrite() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let writer = try ReportWriter(destination: temp.url.appendingPathComponent("out").path)
        try writer.write("p/x.csv", [1])
        #expect(throws: OutputError.self) { try writer.write("p/x.csv", [2]) }
    }

    @Test func aMissingParentFolderIsAClearError() throws {
        #expect(throws: OutputError.self) { try ReportWriter(destination: "/nonexistent-balance-report/sub/out") }
    }

    /// A symlink planted where the output goes is replaced, never followed.
    @Test func aPlantedSymlinkIsNotFollowed() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let target = temp.url.appendingPathComponent("victim")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let out = temp.url.appendingPathComponent("out")
        try FileManager.default.createSymbolicLink(at: out, withDestinationURL: target)
        let writer = try ReportWriter(destination: out.path)
        try writer.write("summary.json", Array("{}".utf8))
        #expect(throws: OutputError.self) { try writer.publish() }
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.path).isEmpty)
    }
}

func writeBytes(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}
