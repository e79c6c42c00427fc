// Errors as values across module boundaries: every module's public functions that can fail
// return Result<T>, never throw. Error carries a message written for the person who reads it.
#pragma once

#include <boost/system/result.hpp>
#include <stdexcept>
#include <string>

namespace packbench {

struct Error {
  std::string message;
};

template <class T>
using Result = boost::system::result<T, Error>;

// boost::system::result calls this when value() is read from an error; we keep it loud.
[[noreturn]] inline void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw std::runtime_error(e.message);
}

}  // namespace packbench
