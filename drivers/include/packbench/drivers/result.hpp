// Errors as values across the drivers module boundary.
#pragma once

#include <boost/system/result.hpp>
#include <stdexcept>
#include <string>

namespace packbench::drivers {

struct Error {
  std::string message;
};

template <class T>
using Result = boost::system::result<T, Error>;

// boost::system::result calls this when value() is read from an error; we keep it loud.
[[noreturn]] inline void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw std::runtime_error(e.message);
}

}  // namespace packbench::drivers
