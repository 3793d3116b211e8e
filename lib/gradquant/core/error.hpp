#pragma once
/**
 * @file error.hpp
 * The exception types of gradquant. The CLI maps each class to one exit code:
 *
 * | class         | meaning                                                  | exit |
 * |---------------|----------------------------------------------------------|------|
 * | SpecError     | bad quantizer spec or command-line value                 | 1    |
 * | IoError       | an input or output file is missing, unreadable, or does  | 2    |
 * |               | not follow docs/format.md (names file, object, problem) |      |
 * | RangeError    | (an IoError) the gradient's values are beyond what the   | 2    |
 * |               | quantizer's float32 fields can carry                     |      |
 * | FormatError   | a stored message is corrupt: truncated, overlong, or its | 3    |
 * |               | checksum does not match                                  |      |
 * | Error (other) | anything else gradquant detected                         | 4    |
 */
#include <stdexcept>
#include <string>

namespace gradquant {

/** Base of every error gradquant throws on purpose. */
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/** A quantizer spec or a command-line value is malformed or out of range. */
class SpecError : public Error {
 public:
  using Error::Error;
};

/** A file cannot be read or written, or breaks the dump layout. */
class IoError : public Error {
 public:
  using Error::Error;
};

/**
 * A gradient value is NaN or Inf and the dump was opened to reject such values (an IoError:
 * the input is unusable as it stands; a caller may offer to zero such values instead).
 */
class NonfiniteError : public IoError {
 public:
  using IoError::IoError;
};

/**
 * Finite gradient values too large for a quantizer: its float32 side information (a norm, a
 * scale, a factor) or its reconstruction overflows (values near FLT_MAX). An IoError: the
 * input cannot be used with that quantizer as it stands.
 */
class RangeError : public IoError {
 public:
  using IoError::IoError;
};

/** A message (bitstream) is corrupt: truncated, overlong or failing its checksum. */
class FormatError : public Error {
 public:
  using Error::Error;
};

}  // namespace gradquant
