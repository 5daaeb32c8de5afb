// Reading the exports: the CSV reader alone, the XML reader alone, and Ingest (reader plus field
// decoding into records) over each format. Memory of the records is freed after the measurement.
import BalancePipeline
import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport
import Benchmark
import BenchSupport

let benchmarks: @Sendable () -> Void = {
    for size in BenchData.sizes {
        let configuration = BenchData.configuration(size)

        // Structural CSV parsing of transactions.csv: every record split into fields, no decoding.
        Benchmark("CSVParse-\(size.label)", configuration: configuration) { benchmark, path in
            var reader = try CSVReader(path: path)
            defer { reader.close() }
            var records = 0
            var fieldBytes = 0
            try reader.read(onRow: { row in
                records += 1
                for field in 0..<row.count {
                    fieldBytes &+= row.withField(field) { $0.count }
                }
            }, onMalformed: { error in
                throw BenchData.Failure(description: "line \(error.line): \(error.reason)")
            })
            guard records == size.rows + 1 else {
                throw BenchData.Failure(description: "read \(records - 1) records, expected \(size.rows)")
            }
            blackHole(fieldBytes)
        } setup: {
            try BenchData.csvFolder(size) + "/transactions.csv"
        }

        // Ingest of the three CSV files: reading, kind detection, decoding into records; a large
        // file on every core, as the CLI runs it.
        Benchmark("CSVIngest-\(size.label)", configuration: configuration) { benchmark, paths in
            let export = Ingestor.ingest(paths: paths, options: BenchData.ingestOptions, workers: processorCount)
            withExtendedLifetime(export) {
                benchmark.stopMeasurement()
            }
            if !export.rejections.isEmpty || export.transactions.count != size.rows {
                benchmark.error("ingest: \(export.transactions.count) transactions, \(export.rejections.count) rejections")
            }
        } setup: {
            try BenchData.csvPaths(size)
        }

        // Structural XML parsing of export.xml with libxml2's streaming reader: records and their fields.
        Benchmark("XMLParse-\(size.label)", configuration: configuration) { benchmark, path in
            var records = 0
            var values = 0
            try XMLRecordReader.read(path: path, mapping: HeaderMapping()) { record in
                records += 1
                values &+= record.values.count
            }
            blackHole(values)
            guard records >= size.rows else {
                throw BenchData.Failure(description: "read \(records) records, expected at least \(size.rows)")
            }
        } setup: {
            try BenchData.xmlPath(size)
        }

        // Ingest of the XML export: the XML reader plus decoding into records.
        Benchmark("XMLIngest-\(size.label)", configuration: configuration) { benchmark, path in
            let export = Ingestor.ingest(paths: [path], options: BenchData.ingestOptions, workers: processorCount)
            withExtendedLifetime(export) {
                benchmark.stopMeasurement()
            }
            if !export.rejections.isEmpty || export.transactions.count != size.rows {
                benchmark.error("ingest: \(export.transactions.count) transactions, \(export.rejections.count) rejections")
            }
        } setup: {
            try BenchData.xmlPath(size)
        }
    }
}
