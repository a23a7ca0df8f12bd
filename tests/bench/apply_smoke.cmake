# CTest "bench: apply smoke": runs `chipledger-bench-apply` on a few hundred
# serials and checks it completed (every register, transfer and accept it
# applied was accepted: exit 0) and that its JSON has the figures
# docs/performance.md reads. Not a timed test: no figure is compared.
# Usage: cmake -DBENCH=path/to/chipledger-bench-apply -DNODE=path/to/chipledger-node -DOUT=file.json -P apply_smoke.cmake
if(NOT BENCH OR NOT NODE OR NOT OUT)
  message(FATAL_ERROR "give -DBENCH=..., -DNODE=... and -DOUT=...")
endif()
file(REMOVE "${OUT}")
execute_process(COMMAND "${BENCH}" --serials 300 --block 50 --rounds 2 --node-bin "${NODE}"
                        --out "${OUT}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 240)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "chipledger-bench-apply exited with ${rc}\n${err}")
endif()
file(READ "${OUT}" json)
foreach(round 0 1)
  foreach(phase transfers accepts register)
    foreach(field transactions blocks cpu_seconds cpu_us_per_tx wall_us_per_tx)
      string(JSON value ERROR_VARIABLE error GET "${json}" rounds ${round} ${phase} ${field})
      if(error)
        message(FATAL_ERROR "${OUT}: missing rounds ${round} ${phase} ${field}: ${error}")
      endif()
    endforeach()
  endforeach()
  string(JSON n GET "${json}" rounds ${round} transfers transactions)
  string(JSON b GET "${json}" rounds ${round} transfers blocks)
  if(NOT n EQUAL 300 OR NOT b EQUAL 6)
    message(FATAL_ERROR "${OUT}: round ${round} applied ${n} transfers in ${b} blocks, not 300 in 6")
  endif()
endforeach()
