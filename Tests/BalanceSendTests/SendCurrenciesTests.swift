import Foundation
import Testing
@testable import BalanceTestSupport

/// `send` of a run of several currencies (issue 23): each partner's message, as the SMTP server
/// receives it, says each currency's totals apart and carries the workbooks with the currency column.
@Suite("send: a run of several currencies", .serialized)
struct SendCurrenciesTests {
    @Test func eachPartnersMessageStatesEveryCurrencyApart() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let contacts = try temp.file("contacts.csv", "partner_id,email,name\norion,orion@partners.example,Finance of orion\nsirius,sirius@partners.example,Finance of sirius\n")
        let out = temp.url.appendingPathComponent("out")
        let files = ["clients.csv", "events.csv", "transactions.csv"].map { "sample-data/currencies/" + $0 }
        try SendFixture.render(out, files: files, contacts: contacts, extra: ["--eml-from", SendFixture.from, "--eml-date", SendFixture.date, "--allow-rejects"])
        let server = try SMTPServer(in: temp.url)
        defer { server.stop() }
        let (_, sendmail) = try server.msmtpConfig(in: temp.url)
        let result = try BalanceReportBinary.run(["send", out.path, "--sendmail", sendmail])
        #expect(result.status == 0, "\(result.stderr)")
        let received = try server.received()
        #expect(received.count == 2)
        for message in received {
            // The server got report.eml byte for byte; the text part (base64 or quoted) is checked
            // through Python's email package, as a mail client reads it.
            let partner = message.recipients == ["orion@partners.example"] ? "orion" : "sirius"
            #expect(message.bytes == (try Data(contentsOf: out.appendingPathComponent("\(partner)/report.eml"))))
            let path = temp.url.appendingPathComponent("\(partner).eml").path
            try message.bytes.write(to: URL(fileURLWithPath: path))
            let read = try PythonScript.inline("""
                import email, sys
                from email import policy
                m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=policy.default)
                text = m.get_body(preferencelist=('plain',)).get_content()
                print(text)
                print('ATTACHMENTS', sorted(p.get_filename() for p in m.iter_attachments()))
                """, [path])
            #expect(read.status == 0, "\(read.stderr)")
            let expected = partner == "orion" ? ["RUB:", "USD:", "6\u{00A0}379,50\u{00A0}₽", "255,25\u{00A0}$"] : ["KZT:", "RUB:", "USD:"]
            for line in expected { #expect(read.stdout.contains(line), "\(partner): \(line) in \(read.stdout)") }
            #expect(read.stdout.contains("snapshot_2024-03-01_2024-03-31.xlsx"))
        }
    }
}
