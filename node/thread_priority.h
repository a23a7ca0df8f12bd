// Lowers the calling thread's scheduling priority (raises its nice value)
// by a step, within the process: Linux keeps a nice value per thread. Used
// to keep the threads that check signatures on arrival from starving the
// one thread that applies blocks (docs/performance.md, "Session 33").
#pragma once

#include "crypto/result.h"

namespace chipledger {

// The largest step: Linux's nice values go up to 19.
constexpr int kMaxThreadNiceStep = 19;

// Adds `step` (0..kMaxThreadNiceStep) to the thread's nice value, capped at 19; 0 changes
// nothing. An unprivileged process may always lower its own priority, so a
// failure is unexpected; it is returned, and the thread runs on unchanged.
// Threads the caller starts afterwards inherit the new value (Linux), e.g.
// a waiter thread an HTTP handler starts.
Status lower_this_thread_priority(int step);

// The calling thread's nice value.
int this_thread_nice();

}  // namespace chipledger
