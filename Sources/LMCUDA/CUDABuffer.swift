import LMTensor

/// A device allocation; freed when the last tensor viewing it goes away.
public final class CUDABuffer: DeviceBuffer, @unchecked Sendable {
    public let byteCount: Int
    let address: CUdeviceptr
    let device: CUDADevice

    init(device: CUDADevice, byteCount: Int) throws(CUDAError) {
        device.makeCurrent()
        var address: CUdeviceptr = 0
        try device.driver.check(device.driver.cuMemAlloc(&address, max(byteCount, 256)), "cuMemAlloc(\(byteCount) bytes)")
        self.address = address
        self.byteCount = byteCount
        self.device = device
    }

    deinit {
        device.makeCurrent()
        _ = device.driver.cuMemFree(address)
    }
}

extension Tensor {
    /// The device address of the tensor's first element.
    var address: CUdeviceptr {
        guard let buffer = buffer as? CUDABuffer else { preconditionFailure("a tensor of another backend reached the CUDA backend") }
        return buffer.address + CUdeviceptr(byteOffset)
    }
}
