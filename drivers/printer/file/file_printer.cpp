#include "printer/file/file_printer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

namespace packbench::drivers {

namespace {

std::string errno_text(const char* what, const std::filesystem::path& path) {
  return std::string(what) + " " + path.string() + ": " + std::strerror(errno);
}

}  // namespace

FilePrinter::FilePrinter(boost::asio::any_io_executor ex, PrinterOptions options)
    : ex_(std::move(ex)), options_(std::move(options)) {}

FilePrinter::~FilePrinter() {
  shared_->active = false;
  writer_.join();
}

Result<void> FilePrinter::activate() {
  std::error_code ec;
  std::filesystem::create_directories(options_.directory, ec);
  if (ec) {
    shared_->status = {DeviceState::fault,
                       "cannot create " + options_.directory.string() + ": " + ec.message()};
    return Error{"printer " + options_.name + ": " + shared_->status.detail};
  }
  shared_->active = true;
  shared_->status = {DeviceState::ready, "writing to " + options_.directory.string()};
  return {};
}

void FilePrinter::deactivate() {
  shared_->active = false;
  shared_->status = {DeviceState::inactive, "stopped"};
}

std::string FilePrinter::extension_for(std::string_view content_type) {
  if (content_type == "application/zpl") {
    return ".zpl";
  }
  if (content_type == "application/vnd.escpos") {
    return ".escpos";
  }
  if (content_type == "application/pdf") {
    return ".pdf";
  }
  if (content_type == "image/png") {
    return ".png";
  }
  return ".bin";
}

// Written to a temporary name, flushed to disk and renamed, so that a reader never sees half a
// job and a job reported done survives a power cut.
Result<void> FilePrinter::write_job(const std::filesystem::path& dir, const PrintJob& job) {
  const auto final_path = dir / (job.name + extension_for(job.content_type));
  const auto tmp_path = dir / ("." + job.name + ".tmp");
  const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Error{errno_text("cannot create", tmp_path)};
  }
  std::size_t written = 0;
  while (written < job.data.size()) {
    const ssize_t n = ::write(fd, job.data.data() + written, job.data.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      auto err = errno_text("cannot write", tmp_path);
      ::close(fd);
      ::unlink(tmp_path.c_str());
      return Error{err};
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    auto err = errno_text("cannot flush", tmp_path);
    ::close(fd);
    ::unlink(tmp_path.c_str());
    return Error{err};
  }
  ::close(fd);
  if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    auto err = errno_text("cannot rename to", final_path);
    ::unlink(tmp_path.c_str());
    return Error{err};
  }
  // The rename is only durable once the directory entry is on disk too.
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    const int rc = ::fsync(dfd);
    ::close(dfd);
    if (rc != 0) {
      return Error{errno_text("cannot flush the folder", dir)};
    }
  }
  return {};
}

void FilePrinter::print(PrintJob job, PrintDone done) {
  if (!shared_->active) {
    boost::asio::post(ex_, [done = std::move(done)] { done(Error{"printer is not active"}); });
    return;
  }
  shared_->status = {DeviceState::busy, "writing " + job.name};
  // The work guard keeps the control executor's io_context running until the result is back.
  boost::asio::post(
      writer_, [ex = ex_, work = boost::asio::make_work_guard(ex_), shared = shared_,
                dir = options_.directory, job = std::move(job), done = std::move(done)]() mutable {
        Result<void> result = write_job(dir, job);
        boost::asio::post(ex, [shared, work = std::move(work), name = job.name,
                               result = std::move(result), done = std::move(done)]() mutable {
          if (shared->active) {
            shared->status = result ? DeviceStatus{DeviceState::ready, "last job: " + name}
                                    : DeviceStatus{DeviceState::fault, result.error().message};
          }
          done(std::move(result));
        });
      });
}

}  // namespace packbench::drivers
