#pragma once
/**
 * @file output_file.hpp
 * A new HDF5 file written under a temporary name in the target folder and renamed into place by
 * Commit(). Until then the target is untouched; if the object is destroyed without Commit()
 * (an error, an exception), the temporary file is removed, so a failed run leaves nothing behind.
 */
#include <memory>
#include <string>

namespace gradquant {

/** The file being written; the writers in io/ add their groups to it. */
class OutputFile {
 public:
  /** Creates the temporary file beside @p path. @throws IoError if the folder is unwritable. */
  explicit OutputFile(const std::string& path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  /**
   * Writes out and closes the file, then syncs it to disk; a write error (a full disk,
   * `ulimit -f`) surfaces here, before anything is reported. Idempotent. @throws IoError
   */
  void Close();

  /** Close()s the file if it is open and renames it to its target. @throws IoError */
  void Commit();

  /** The target path. */
  const std::string& Path() const;
  /** The temporary path being written. */
  const std::string& TempPath() const;

  /** Internal to io/: the open HDF5 file. */
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

/**
 * Whether writing or closing an output failed in this process (a full disk). HDF5 1.10 is then
 * left in a state that its shutdown at exit can crash on, so the program should end with
 * std::_Exit once its streams are flushed.
 */
bool OutputWriteFailed();

/** Removes every temporary file OutputFile instances of this process still hold (for signals). */
void RemovePendingOutputs();

}  // namespace gradquant
