# Handshake and rate limit (common/handshake.c, common/ratelimit.c): unit tests, fuzz target and
# the handshake benchmark (run with a tiny iteration count as a smoke test).
mqttip_unit_test(test_handshake SOURCES unit/test_handshake.c LIBS mqttip_handshake)
mqttip_unit_test(test_ratelimit SOURCES unit/test_ratelimit.c LIBS mqttip_handshake)
mqttip_fuzz_target(fuzz_handshake fuzz/fuzz_handshake.c mqttip_handshake)

add_executable(bench_handshake bench/bench_handshake.c)
target_link_libraries(bench_handshake PRIVATE mqttip_handshake)
add_test(NAME bench_handshake_smoke COMMAND bench_handshake 3)
set_tests_properties(bench_handshake_smoke PROPERTIES LABELS unit)
mqttip_unit_test(test_caps SOURCES unit/test_caps.c LIBS mqttip_peer)
mqttip_fuzz_target(fuzz_caps fuzz/fuzz_caps.c mqttip_peer)
