import LMTensor

/// The streamed GEMV (gemv_stream_* in gemv.cu, under `streamGEMV`): each warp owns whole rows and
/// streams them in bulk copies (TMA) through its own shared-memory ring, the first copies issued
/// before the PDL wait.
extension CUDABackend {
    /// The chunk (16-byte vectors per bulk copy, 32 to 256) for rows of `columns`, or nil where
    /// the streamed GEMV does not apply (off, or a row not a whole number of 512-byte chunks).
    func streamChunk(columns: Int) -> Int? {
        guard streamGEMV, columns % 256 == 0 else { return nil }
        return [256, 128, 64, 32].first { (columns / 8) % $0 == 0 }
    }

    /// Blocks and dynamic shared bytes for `rows` logical rows: `streamSlots` slots of 4 KB a warp
    /// (fewer if a block cannot hold them), as many blocks of 8 warps per multiprocessor as asked and
    /// fit, and no more blocks than the GPU holds at once: a warp's rows are fixed by the grid, so a
    /// second wave would double the time.
    func streamLaunch(rows: Int) -> (slots: Int, blocks: Int, sharedBytes: Int) {
        let slotBytes = 8 * 4096
        var slots = streamSlots
        while slots > 2, slots * slotBytes > device.sharedMemoryPerBlock - 1024 { slots -= 1 }
        let bytes = slots * slotBytes
        let perMultiprocessor = max(1, min(streamBlocksPerSM, device.sharedMemoryPerMultiprocessor / (bytes + 2048)))
        return (slots, max(1, min(device.multiprocessors * perMultiprocessor, (rows + 7) / 8)), bytes)
    }

    /// Launches gemv_stream_`kernel` over `rows` logical rows in chunks of `chunk` vectors with the
    /// arguments `fill` adds (the chunk and ring size follow them).
    func launchStreamGEMV(_ kernel: String, rows: Int, chunk: Int, label: @autoclosure () -> String, _ fill: (inout KernelArguments) -> Void) {
        let (slots, blocks, bytes) = streamLaunch(rows: rows)
        launch(.gemv, "gemv_stream_" + kernel, grid: (blocks, 1, 1), block: 256, sharedBytes: bytes, label: "stream " + label()) { a in
            fill(&a)
            a.add(Int32(chunk)); a.add(Int32(slots))
        }
    }
}
