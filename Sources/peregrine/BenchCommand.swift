import ArgumentParser
import LMCUDA

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print tables: model throughput and kernel speed against this machine's ceilings.",
        subcommands: [BenchModelCommand.self, BenchKernelsCommand.self, BenchLinearCommand.self, BenchTokenizerCommand.self, BenchSchedulerCommand.self, BenchSamplingCommand.self, BenchEngineCommand.self, BenchServeCommand.self, BenchPlotCommand.self])
}

/// A plain-text table with right-aligned numbers.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []

    func render() -> String {
        let widths = header.indices.map { column in
            ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: " | ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "-|-")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}

/// The CUDA profiler's busiest kernels as a table (`PEREGRINE_CUDA_PROFILE=1`).
func kernelProfileTable(_ phase: String, _ entries: [CUDAProfiler.Entry]) -> String {
    var table = TextTable(header: ["\(phase) kernel (PEREGRINE_CUDA_PROFILE=1, each op timed alone)", "launches", "ms", "share"])
    for entry in entries.prefix(20) {
        table.rows.append([entry.name, "\(entry.count)", format(entry.milliseconds, decimals: 2), format(100 * entry.share, decimals: 1) + "%"])
    }
    return table.render()
}
