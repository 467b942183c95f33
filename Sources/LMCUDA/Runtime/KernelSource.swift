/// One `.cu` file carried inside the binary, compiled with the shared prelude (`common.cuh`).
struct KernelSource: Sendable {
    let name: String
    let source: String
    /// Its `extern "C" __global__` kernels (and macro-stamped instances), read from the source.
    let functions: [String]

    init(name: String, bytes: [UInt8]) {
        self.name = name
        source = String(decoding: bytes, as: UTF8.self)
        let declared = source.components(separatedBy: "extern \"C\" __global__ void ").dropFirst().compactMap { declaration in
            // The word before "(", past a written-out `__launch_bounds__(...)`; a launch-bounds
            // macro may come first too (`void BOUNDS name(`).
            var rest = Substring(declaration)
            if rest.hasPrefix("__launch_bounds__("), let close = rest.firstIndex(of: ")") { rest = rest[rest.index(after: close)...] }
            return rest.split(separator: "(", maxSplits: 1).first?.split(separator: " ").last.map(String.init)
        }
        // Instances stamped out by a macro: lines `SOMETHING_INSTANCE(name, ...)`.
        let stamped = source.split(separator: "\n").compactMap { line -> String? in
            guard !line.hasPrefix("#"), let open = line.range(of: "_INSTANCE("), line.prefix(upTo: open.lowerBound).allSatisfy({ $0.isUppercase || $0 == "_" })
            else { return nil }
            return line[open.upperBound...].split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        // A macro's own declaration (`void NAME(`) names no kernel.
        functions = declared.filter { !$0.contains("NAME") } + stamped
    }

    var fullSource: String { String(decoding: PackageResources.common_cuh, as: UTF8.self) + "\n" + source }

    static let elementwise = KernelSource(name: "elementwise", bytes: PackageResources.elementwise_cu)
    static let gatherRows = KernelSource(name: "gather_rows", bytes: PackageResources.gather_rows_cu)
    static let rmsNorm = KernelSource(name: "rms_norm", bytes: PackageResources.rms_norm_cu)
    static let rope = KernelSource(name: "rope", bytes: PackageResources.rope_cu)
    static let writeKV = KernelSource(name: "write_kv", bytes: PackageResources.write_kv_cu)
    static let pagedDecode = KernelSource(name: "paged_decode", bytes: PackageResources.paged_decode_cu)
    static let pagedDecodeMMA = KernelSource(name: "paged_decode_mma", bytes: PackageResources.paged_decode_mma_cu)
    static let pagedPrefill = KernelSource(name: "paged_prefill", bytes: PackageResources.paged_prefill_cu)
    static let pagedPrefillMMA = KernelSource(name: "paged_prefill_mma", bytes: PackageResources.paged_prefill_mma_cu)
    static let argmax = KernelSource(name: "argmax", bytes: PackageResources.argmax_cu)
    static let gemv = KernelSource(name: "gemv", bytes: PackageResources.gemv_cu)
    static let bias = KernelSource(name: "bias", bytes: PackageResources.bias_cu)
    static let copy = KernelSource(name: "copy", bytes: PackageResources.copy_cu)
    static let copyColumns = KernelSource(name: "copy_columns", bytes: PackageResources.copy_columns_cu)
    static let sample = KernelSource(name: "sample", bytes: PackageResources.sample_cu)
    static let editLogits = KernelSource(name: "edit_logits", bytes: PackageResources.edit_logits_cu)
    static let ropeWriteKV = KernelSource(name: "rope_write_kv", bytes: PackageResources.rope_write_kv_cu)
    static let expertRows = KernelSource(name: "expert_rows", bytes: PackageResources.expert_rows_cu)
    static let copyTokens = KernelSource(name: "copy_tokens", bytes: PackageResources.copy_tokens_cu)
    static let skinnyGEMM = KernelSource(name: "skinny_gemm", bytes: PackageResources.skinny_gemm_cu)
    static let tokenLogprobs = KernelSource(name: "token_logprobs", bytes: PackageResources.token_logprobs_cu)

    static let all: [KernelSource] = [elementwise, gatherRows, rmsNorm, rope, writeKV, pagedDecode, pagedDecodeMMA, pagedPrefill, pagedPrefillMMA, argmax, gemv, bias, copy, copyColumns, sample, editLogits, ropeWriteKV, expertRows, copyTokens, skinnyGEMM, tokenLogprobs]
}

import Foundation
