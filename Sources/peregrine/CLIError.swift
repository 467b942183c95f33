/// A failure of a command's own checks at run time, printed as one line (no usage text:
/// the arguments parsed fine, the request itself cannot be done).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
