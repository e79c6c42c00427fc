// Errors as values across the station module's boundary.
#pragma once

#include <boost/system/result.hpp>
#include <stdexcept>
#include <string>

namespace packbench::station {

struct Error {
  std::string message;
};

template <class T>
using Result = boost::system::result<T, Error>;

[[noreturn]] inline void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw std::runtime_error(e.message);
}

}  // namespace packbench::station
