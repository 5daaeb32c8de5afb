@testable import BalanceTestSupport
@testable import BalancePipeline
@testable import BalanceSend
@testable import BalanceOutput
@testable import BalanceRender
@testable import BalanceReport
@testable import BalanceIngest
@testable import BalanceModel
@testable import BalanceSupport
import Foundation
import Testing

@Suite("report.eml")
struct EmailTests: ModelBuilders {
    func render(_ extra: [String], environment: [String: String] = [:]) throws -> (TemporaryFolder, URL, CommandResult) {
        let temp = try TemporaryFolder()
        let out = temp.url.appendingPathComponent("out")
        let result = try BalanceReportBinary.run(["render", "--period", "2024-03", "--quiet", "--out", out.path] + extra + Repository.sampleFiles,
                                                 environment: environment)
        return (temp, out, result)
    }

    @Test func messagesReadyToSendPassAMIMEParser() throws {
        let (temp, out, result) = try render(EmailFixture.sendArguments)
        defer { temp.cleanup() }
        #expect(result.status == 0, "\(result.stderr)")
        let alfa = try EMLCheck.run(out.appendingPathComponent("alfa-cloud"), to: EmailFixture.alfaRecipients,
                                    from: EmailFixture.from, date: EmailFixture.rfcDate)
        #expect(alfa.status == 0, "alfa-cloud: \(alfa.stderr)")
        let vega = try EMLCheck.run(out.appendingPathComponent("vega-it"), from: EmailFixture.from, date: EmailFixture.rfcDate)
        #expect(vega.status == 0, "vega-it: \(vega.stderr)")
    }

    @Test func draftsWithoutDateOrRecipientsPassAMIMEParserInEitherLanguage() throws {
        for lang in ["ru", "en"] {
            // With --xlsx the Russian attachments are compared with the workbooks written beside them.
            let (temp, out, result) = try render(["--eml", "--lang", lang] + (lang == "ru" ? ["--xlsx"] : []))
            defer { temp.cleanup() }
            #expect(result.status == 0, "\(result.stderr)")
            for partner in ["alfa-cloud", "vega-it"] {
                let check = try EMLCheck.run(out.appendingPathComponent(partner), lang: lang)
                #expect(check.status == 0, "\(lang) \(partner): \(check.stderr)")
            }
        }
    }

    @Test func sourceDateEpochDatesTheMessagesAndNothingElseDoes() throws {
        let (temp, out, result) = try render(["--eml"], environment: ["SOURCE_DATE_EPOCH": "1711951200"])
        defer { temp.cleanup() }
        #expect(result.status == 0, "\(result.stderr)")
        let check = try EMLCheck.run(out.appendingPathComponent("vega-it"), date: "Mon, 01 Apr 2024 09:00:00 +0300")
        #expect(check.status == 0, "\(check.stderr)")

        // Without a date the bytes depend on nothing but the inputs: not the clock, zone or locale.
        let (tempA, outA, a) = try render(["--eml"], environment: ["TZ": "America/New_York", "LANG": "en_US.UTF-8"])
        defer { tempA.cleanup() }
        Thread.sleep(forTimeInterval: 1.1)
        let (tempB, outB, b) = try render(["--eml"], environment: ["TZ": "Asia/Tokyo", "LC_ALL": "C"])
        defer { tempB.cleanup() }
        #expect(a.status == 0 && b.status == 0)
        for partner in ["alfa-cloud", "vega-it"] {
            let first = try Data(contentsOf: outA.appendingPathComponent("\(partner)/report.eml"))
            let second = try Data(contentsOf: outB.appendingPathComponent("\(partner)/report.eml"))
            #expect(first == second, "\(partner)/report.eml differs between runs")
            #expect(!String(decoding: first, as: UTF8.self).contains("\r\nDate:"))
        }
    }

    @Test func emlOptionsAreCheckedBeforeAnythingIsRead() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out").path
        let base = ["render", "--period", "2024-03", "--out", out]
        #expect(try BalanceReportBinary.run(base + ["--contacts", EmailFixture.contacts] + Repository.sampleFiles).status == 2)
        #expect(try BalanceReportBinary.run(base + ["--lang", "de"] + Repository.sampleFiles).status == 2)
        #expect(try BalanceReportBinary.run(base + ["--eml", "--eml-from", "not an address"] + Repository.sampleFiles).status == 2)
        #expect(try BalanceReportBinary.run(base + ["--eml", "--eml-date", "yesterday"] + Repository.sampleFiles).status == 2)

        // A contact that would add a header line is refused, and nothing is written.
        let injected = try temp.file("contacts.csv", "partner_id,email,name\nalfa-cloud,\"a@b.example\r\nBcc: all@evil.example\",X\n")
        let refused = try BalanceReportBinary.run(base + ["--eml", "--contacts", injected] + Repository.sampleFiles)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("contacts.csv:2: "), "\(refused.stderr)")
        let noHeader = try temp.file("bad.csv", "alfa-cloud,a@b.example\n")
        let headless = try BalanceReportBinary.run(base + ["--eml", "--contacts", noHeader] + Repository.sampleFiles)
        #expect(headless.status == 1)
        #expect(headless.stderr.contains("partner_id and email"), "\(headless.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    // MARK: MIME pieces

    @Test func base64FollowsRFC4648() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(String(decoding: Base64.encode(Array(plain.utf8)), as: UTF8.self) == encoded)
        }
        let long = Base64.lines([UInt8](repeating: 0xAB, count: 200))
        let lines = String(decoding: long, as: UTF8.self).components(separatedBy: "\r\n")
        #expect(lines.dropLast().allSatisfy { $0.count <= 76 } && lines.last == "")
        #expect(lines.dropLast().joined() == Data([UInt8](repeating: 0xAB, count: 200)).base64EncodedString())
    }

    @Test func encodedWordsAreShortWholeCharactersAndDecodeBack() {
        let subject = "Отчёт по клиентам партнёра «Рога и копыта» 😀 за 01.03.2024 – 31.03.2024"
        let words = MIME.encodedWords(subject)
        #expect(words.count > 1)
        var decoded: [UInt8] = []
        for word in words {
            #expect(word.count <= 75 && word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
            let payload = String(word.dropFirst(10).dropLast(2))
            let bytes = [UInt8](Data(base64Encoded: payload) ?? Data())
            #expect(String(validating: bytes, as: UTF8.self) != nil, "a word splits a character: \(word)")
            decoded += bytes
        }
        #expect(String(decoding: decoded, as: UTF8.self) == subject)
        let header = MIME.unstructuredHeader("Subject", subject)
        #expect(header.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        #expect(MIME.unstructuredHeader("Subject", "Monthly report") == "Subject: Monthly report")
    }

    @Test func addressesAreQuotedOrEncodedAsTheirNamesNeed() throws {
        #expect(MIME.addressHeader("To", [MailAddress(email: "a@b.example")]) == "To: a@b.example")
        #expect(MIME.addressHeader("To", [MailAddress(email: "a@b.example", name: "Jane Doe")]) == "To: Jane Doe <a@b.example>")
        #expect(MIME.addressHeader("To", [MailAddress(email: "a@b.example", name: "Doe, \"J\"")]) == "To: \"Doe, \\\"J\\\"\" <a@b.example>")
        #expect(MIME.addressHeader("To", [MailAddress(email: "a@b.example", name: "Ян\r\nBcc: x@y")]).hasPrefix("To: =?UTF-8?B?"))
        #expect(!MIME.addressHeader("To", [MailAddress(email: "a@b.example", name: "Ян\r\nBcc: x@y")]).contains("Bcc"))
        #expect(try MailAddress.parse("Финансы <billing@cloud.example>") == MailAddress(email: "billing@cloud.example", name: "Финансы"))
        #expect(try MailAddress.parse(" billing@cloud.example ") == MailAddress(email: "billing@cloud.example"))
        for bad in ["billing", "a@b@c", "a b@c.example", "a@b.example\r\nBcc: x@y", "<a@b.example", "Имя@пример.рф"] {
            #expect(throws: Diagnostic.self, "\(bad)") { try MailAddress.parse(bad) }
        }
    }

    @Test func aTextTemplateWithoutSubjectIsATemplateError() throws {
        let report = try runReport(export([tx("t1", "2024-03-02 10:00:00", client: "c1", .topup, "10")], clients: [clientRecord("c1")],
                                          events: [ev("c1", "2024-01-01 00:00:00", .invited), ev("c1", "2024-01-02 00:00:00", .confirmed)]))
        let renderer = ReportRenderer(templates: try RepositoryTemplates.set(.ru), dialect: .standard)
        let options = EmailOptions(textTemplate: try EmailOptions.compileTextTemplate("Hello {{partner_id}}\n"))
        #expect(throws: TemplateError.self) { try renderer.emailMessage(try partner(report), report, options: options) }
        let good = EmailOptions(textTemplate: try EmailOptions.compileTextTemplate("Subject: {{partner_id}} & co\n\nHello <{{partner_id}}>\n"))
        let message = String(decoding: try renderer.emailMessage(try partner(report), report, options: good), as: UTF8.self)
        #expect(message.hasPrefix("Subject: p1 & co\r\n"))
        let body = message.components(separatedBy: "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")[1]
            .components(separatedBy: "\r\n--")[0].replacingOccurrences(of: "\r\n", with: "")
        #expect(String(decoding: Data(base64Encoded: body) ?? Data(), as: UTF8.self) == "Hello <p1>\r\n")
    }
}
