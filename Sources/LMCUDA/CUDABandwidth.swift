/// The card's memory ceiling as METHOD.md asks for it: a large device-to-device copy, counting
/// bytes read plus bytes written, timed with device events (median of several runs).
public struct CUDABandwidth: Sendable {
    /// Bytes per second through cuMemcpyDtoD.
    public var memcpy: Double
    /// Bytes per second through our own 16-byte-vector copy kernel.
    public var kernel: Double

    public static func measure(_ device: CUDADevice, bytes: Int = 2 << 30, repeats: Int = 9) throws(CUDAError) -> CUDABandwidth {
        device.makeCurrent()
        let source = try CUDABuffer(device: device, byteCount: bytes), destination = try CUDABuffer(device: device, byteCount: bytes)
        let driver = device.driver
        try driver.check(driver.cuMemsetD8Async(source.address, 0x3c, bytes, device.stream), "cuMemsetD8Async")
        let timer = try EventTimer(device: device)
        func median(_ body: () throws(CUDAError) -> Void) throws(CUDAError) -> Double {
            try body()   // warm-up
            var times: [Double] = []
            for _ in 0..<repeats { times.append(try timer.seconds(body)) }
            return times.sorted()[times.count / 2]
        }
        let copyTime = try median { () throws(CUDAError) in
            try driver.check(driver.cuMemcpyDtoDAsync(destination.address, source.address, bytes, device.stream), "cuMemcpyDtoDAsync")
        }
        let function = try device.function("copy_vectors", module: .copy)
        let kernelTime = try median { () throws(CUDAError) in
            var arguments = KernelArguments()
            arguments.add(source.address); arguments.add(destination.address); arguments.add(bytes / 16)
            try device.launch(function, grid: (device.multiprocessors * 8, 1, 1), block: 512, &arguments)
        }
        return CUDABandwidth(memcpy: 2 * Double(bytes) / copyTime, kernel: 2 * Double(bytes) / kernelTime)
    }
}
