import LMBench
import Testing

/// The load generator's arithmetic: statistics, SSE framing, datasets, arrivals, SLOs.
@Suite struct BenchStatisticsTests {
    @Test func percentilesInterpolateAsNumpy() {
        let d = Distribution([4, 1, 3, 2])
        #expect(d.mean == 2.5 && d.median == 2.5)
        #expect(abs(d.p90 - 3.7) < 1e-12 && abs(d.p99 - 3.97) < 1e-12)
        #expect(abs(d.std - 1.118033988749895) < 1e-12)
        #expect(Distribution([]) == Distribution(mean: 0, median: 0, std: 0, p90: 0, p99: 0))
        #expect(Distribution([7]).p99 == 7)
    }

    @Test func sseEventsSurviveAnyChunking() {
        let stream = Array("data: {\"a\":1}\n\ndata: line1\ndata: line2\r\n\r\n: comment\n\ndata: [DONE]\n\n".utf8)
        for split in 1..<stream.count {
            var parser = SSEParser()
            let events = parser.feed(stream[..<split]) + parser.feed(stream[split...])
            #expect(events == ["{\"a\":1}", "line1\nline2", "[DONE]"], "split at \(split)")
        }
    }

    @Test func datasetsAreSeededAndShaped() {
        let random = BenchDataset.random(inputLength: 100, outputLength: 20, rangeRatio: 0.5)
        let a = random.requests(count: 200, format: .ids, vocabularySize: 50, seed: 7)
        #expect(a == random.requests(count: 200, format: .ids, vocabularySize: 50, seed: 7))
        #expect(a != random.requests(count: 200, format: .ids, vocabularySize: 50, seed: 8))
        for request in a {
            guard case let .tokens(ids) = request.prompt else { Issue.record("expected ids"); continue }
            #expect(ids.count == request.promptLength && (50...150).contains(ids.count))
            #expect(ids.allSatisfy { (0..<50).contains($0) } && (10...30).contains(request.outputLength))
        }
        let fixed = BenchDataset.random(inputLength: 32, outputLength: 8, rangeRatio: 0).requests(count: 5, format: .text, vocabularySize: 1, seed: 1)
        for request in fixed {
            guard case let .text(text) = request.prompt else { Issue.record("expected text"); continue }
            #expect(text.split(separator: " ").count == 32 && request.outputLength == 8)
        }
        let chats = BenchDataset.shareGPTLike.requests(count: 2000, format: .ids, vocabularySize: 10, seed: 3)
        #expect(chats.allSatisfy { (4...1024).contains($0.promptLength) && (4...1024).contains($0.outputLength) && $0.promptLength + $0.outputLength <= 2048 })
        let inputs = chats.map(\.promptLength).sorted(), outputs = chats.map(\.outputLength).sorted()
        #expect((100...170).contains(inputs[1000]) && (130...210).contains(outputs[1000]), "medians \(inputs[1000]) \(outputs[1000])")
    }

    @Test func arrivalsArePoisson() {
        let times = ServeBenchmark.arrivals(count: 20_000, rate: 4, seed: 11)
        #expect(times.first == 0 && zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
        let meanGap = times.last! / Double(times.count - 1)
        #expect(abs(meanGap - 0.25) < 0.01, "mean gap \(meanGap)")
        #expect(ServeBenchmark.arrivals(count: 3, rate: .infinity, seed: 1) == [0, 0, 0])
    }

    @Test func serviceLevelObjectives() throws {
        let slo = try ServiceLevelObjectives(parsing: "ttft=200, tpot=50")
        #expect(slo == ServiceLevelObjectives(ttft: 200, tpot: 50))
        var record = RequestRecord()
        record.success = true
        record.timeToFirstToken = 0.1
        record.latency = 0.1 + 9 * 0.04
        record.outputTokens = 10
        #expect(slo.met(by: record))
        record.latency = 0.1 + 9 * 0.06
        #expect(!slo.met(by: record))
        for bad in ["", "ttft", "ttft=-1", "speed=3", "ttft=abc", "e2el=inf"] {
            #expect(throws: ServiceLevelObjectives.ParseError.self) { try ServiceLevelObjectives(parsing: bad) }
        }
    }

    @Test func plotDrawsOneLinePerSeries() {
        let plot = LatencyPlot(title: "TTFT <median>", xLabel: "req/s", yLabel: "ms", series: [
            .init(label: "a & b", points: [.init(x: 2, y: 30), .init(x: 1, y: 10)]),
            .init(label: "c", points: [.init(x: 1.5, y: 80)]),
        ])
        let svg = plot.svg()
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "class=\"series\"").count == 3)
        #expect(svg.contains("a &amp; b") && svg.contains("TTFT &lt;median&gt;"))
        #expect(LatencyPlot.niceCeiling(73) == 100 && LatencyPlot.niceCeiling(0.3) == 0.5 && LatencyPlot.niceCeiling(2) == 2)
    }
}
