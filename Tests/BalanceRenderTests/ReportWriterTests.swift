import Foundation
import Testing
import Synchronization
import Dispatch
@testable import BalanceTestSupport
@testable import BalancePipeline
@testable import BalanceSend
@testable import BalanceOutput
@testable import BalanceRender
@testable import BalanceReport
@testable import BalanceIngest
@testable import BalanceModel
@testable import BalanceSupport

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

    /// Watched from another thread while `publish` replaces a large old output: at every moment
    /// the destination holds all of the old output or the new one, never neither.
    @Test func replacingAnOutputIsOneStepForAConcurrentReader() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out").path
        let old = try ReportWriter(destination: out)
        for index in 0..<3_000 { try old.write("old/f\(index).csv", [1]) }
        try old.publish()
        let new = try ReportWriter(destination: out)
        try new.write("new-marker", [2])
        final class Watch: Sendable { let state = Mutex((stop: false, polls: 0, neither: 0)) }
        let watch = Watch()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            while !watch.state.withLock({ $0.stop }) {
                // Old files first: once one is missing the swap has happened, so the new marker must be there.
                let allOld = (0..<3_000).allSatisfy { access(out + "/old/f\($0).csv", F_OK) == 0 }
                let newThere = access(out + "/new-marker", F_OK) == 0
                watch.state.withLock { $0.polls += 1; if !allOld && !newThere { $0.neither += 1 } }
            }
            done.signal()
        }
        while watch.state.withLock({ $0.polls }) < 2 { usleep(100) }
        try new.publish()
        let after = watch.state.withLock { $0.polls }
        while watch.state.withLock({ $0.polls }) < after + 2 { usleep(100) }
        watch.state.withLock { $0.stop = true }
        done.wait()
        #expect(watch.state.withLock { $0.neither } == 0, "a reader saw neither the old nor the new output")
        #expect(access(out + "/new-marker", F_OK) == 0)
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
        #expect(throws: Diagnostic.self) { try writer.write(path, [1]) }
    }

    @Test func twoFilesWithOneNameAreAnErrorNotAnOverwrite() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let writer = try ReportWriter(destination: temp.url.appendingPathComponent("out").path)
        try writer.write("p/x.csv", [1])
        #expect(throws: Diagnostic.self) { try writer.write("p/x.csv", [2]) }
    }

    @Test func aMissingParentFolderIsAClearError() throws {
        #expect(throws: Diagnostic.self) { try ReportWriter(destination: "/nonexistent-balance-report/sub/out") }
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
        #expect(throws: Diagnostic.self) { try writer.publish() }
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.path).isEmpty)
    }
}

func writeBytes(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}
