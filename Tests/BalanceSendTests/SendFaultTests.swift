import Foundation
import Glibc
import Testing
@testable import BalanceTestSupport

/// `send` killed with SIGKILL at random moments and started again, round after round, against a
/// real SMTP server: the server has each partner's message at most once, every message it lacks is
/// reported failed or uncertain by the last run, and without a kill each arrives exactly once.
@Suite("send: SIGKILL at random points", .serialized)
struct SendFaultTests {
    static let partners = 6
    static let rounds = 16

    @Test func killedRunsNeverSendTwiceNorLoseAMessageSilently() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let export = try SendFixture.writeExport(in: temp.url, partners: Self.partners)
        let base = temp.url.appendingPathComponent("base")
        try SendFixture.render(base, files: export.files, contacts: export.contacts)
        let server = try SMTPServer(in: temp.url)
        defer { server.stop() }
        let (config, msmtp) = try server.msmtpConfig(in: temp.url)
        // A short pause before msmtp widens the moment a message is in flight.
        let command = "sleep 0.03; " + msmtp
        var random = SplitMix64(seed: 20_241_201)
        var roundsWithUncertain = 0
        var killsMidway = 0

        for round in 0..<Self.rounds {
            let out = temp.url.appendingPathComponent("round-\(round)")
            try FileManager.default.copyItem(at: base, to: out)
            try #require(waitForMsmtp(using: config), "msmtp processes did not end")
            try server.clear()

            for _ in 0..<(1 + Int(random.next() % 3)) {
                let run = try SpawnedProcess(["send", out.path, "--quiet", "--sendmail", command])
                usleep(useconds_t(random.next() % 600_000))
                run.kill(SIGKILL)
                _ = run.wait()
                let log = SendFixture.log(out)
                let sent = log.split(separator: "\n").filter { $0.hasPrefix("sent ") }.count
                if !log.isEmpty && sent < Self.partners { killsMidway += 1 }
            }
            let last = try SpawnedProcess(["send", out.path, "--sendmail", command]).wait()
            // Messages handed to an msmtp that a killed run left behind still arrive: wait for them.
            try #require(waitForMsmtp(using: config), "msmtp processes did not end")

            let received = try server.received()
            var uncertain = false
            for partner in export.names {
                let count = received.filter { $0.recipients == [SendFixture.address(partner)] }.count
                #expect(count <= 1, "round \(round): \(partner) received \(count) times\n\(SendFixture.log(out))")
                let reported = last.stderr.contains("\(partner): failed:") || last.stderr.contains("\(partner): uncertain:")
                if count == 0 {
                    #expect(reported, "round \(round): \(partner) never arrived and the last run did not say so\n\(last.stderr)")
                }
                if last.stderr.contains("sent \(partner) to") || last.stderr.contains("already sent \(partner) ") {
                    #expect(count == 1, "round \(round): \(partner) reported sent, the server has \(count)")
                }
                if last.stderr.contains("\(partner): uncertain:") { uncertain = true }
            }
            #expect(received.allSatisfy { message in
                export.names.contains { (try? Data(contentsOf: out.appendingPathComponent("\($0)/report.eml"))) == message.bytes }
            }, "round \(round): the server has a message that is no report.eml byte for byte")
            #expect((last.status == 0) == !uncertain, "round \(round): exit \(last.status)\n\(last.stderr)")
            if uncertain { roundsWithUncertain += 1 }
        }
        // The kills did land while messages were being sent, so the rounds tested something.
        #expect(killsMidway > 0 && roundsWithUncertain > 0, "kills midway \(killsMidway), rounds with uncertain \(roundsWithUncertain)")

        // Without a kill, each message arrives exactly once.
        let clean = temp.url.appendingPathComponent("clean")
        try FileManager.default.copyItem(at: base, to: clean)
        try server.clear()
        let run = try SpawnedProcess(["send", clean.path, "--sendmail", command]).wait()
        #expect(run.status == 0, "\(run.stderr)")
        let received = try server.received()
        #expect(received.map { $0.recipients }.sorted { $0[0] < $1[0] } == export.names.map { [SendFixture.address($0)] })
    }
}
