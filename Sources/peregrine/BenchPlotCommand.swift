import ArgumentParser
import Foundation
import LMBench

/// `peregrine bench plot`: latency-versus-throughput curves from `bench serve` result files.
struct BenchPlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw latency against achieved request rate from several `bench serve --result-file` JSON files, as an SVG.")

    @Argument(help: "Result files from `peregrine bench serve --result-file` (or vLLM's `bench serve`).")
    var results: [String]

    @Option(help: "Where to write the SVG.")
    var output = "latency.svg"

    @Option(help: "ttft, tpot, itl or e2el.")
    var metric = "ttft"

    @Option(help: "mean, median, p90 or p99.")
    var stat = "median"

    func validate() throws {
        guard !results.isEmpty else { throw ValidationError("give at least one result file") }
        guard ["ttft", "tpot", "itl", "e2el"].contains(metric) else { throw ValidationError("--metric must be ttft, tpot, itl or e2el, got \(metric)") }
        guard ["mean", "median", "p90", "p99"].contains(stat) else { throw ValidationError("--stat must be mean, median, p90 or p99, got \(stat)") }
        guard output.hasSuffix(".svg") else { throw ValidationError("--output must name an .svg file") }
    }

    func run() throws {
        var series: [String: [LatencyPlot.Point]] = [:]
        var order: [String] = []
        for path in results {
            let result: BenchResult
            do {
                result = try JSONDecoder().decode(BenchResult.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw CLIError("\(path) is not a `bench serve` result file: \(error)")
            }
            let distribution = switch metric {
            case "ttft": result.ttftMs
            case "tpot": result.tpotMs
            case "itl": result.itlMs
            default: result.e2elMs
            }
            let value = switch stat {
            case "mean": distribution.mean
            case "p90": distribution.p90
            case "p99": distribution.p99
            default: distribution.median
            }
            if series[result.label] == nil { order.append(result.label) }
            series[result.label, default: []].append(.init(x: result.requestThroughput, y: value))
        }
        let plot = LatencyPlot(title: "\(stat) \(metric.uppercased()) against load", xLabel: "achieved request throughput (req/s)",
                               yLabel: "\(stat) \(metric.uppercased()) (ms)",
                               series: order.map { LatencyPlot.Series(label: $0, points: series[$0]!) })
        try plot.svg().write(toFile: output, atomically: true, encoding: .utf8)
        printRaw("wrote \(output): \(order.count) series, \(results.count) points\n")
    }
}
