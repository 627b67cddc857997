# Transport: replay window, keypair seal/open, session rotation, batch bodies (common/ replay.c
# keypair.c session.c batch.c), their fuzz targets and the transport microbenchmark.
mqttip_unit_test(test_replay SOURCES unit/test_replay.c LIBS mqttip_transport)
# The window is a build setting (replay.h): the same test on a build with another one, whose ring
# is a power of two (replay.c compiled in, since the library has the default).
mqttip_unit_test(test_replay_1984 SOURCES unit/test_replay.c ${CMAKE_SOURCE_DIR}/common/replay.c)
target_compile_definitions(test_replay_1984 PRIVATE REPLAY_WINDOW=1984)
target_include_directories(test_replay_1984 PRIVATE ${CMAKE_SOURCE_DIR}/common)
mqttip_unit_test(test_keypair SOURCES unit/test_keypair.c LIBS mqttip_transport)
mqttip_unit_test(test_session SOURCES unit/test_session.c LIBS mqttip_transport)
mqttip_unit_test(test_batch SOURCES unit/test_batch.c LIBS mqttip_transport)
# Super-packets (common/gso.c): checks, checksums, segmentation, coalescing.
mqttip_unit_test(test_gso SOURCES unit/test_gso.c LIBS mqttip_gso)

mqttip_fuzz_target(fuzz_transport fuzz/fuzz_transport.c mqttip_transport)
mqttip_fuzz_target(fuzz_batch fuzz/fuzz_batch.c mqttip_transport)
mqttip_fuzz_target(fuzz_offload fuzz/fuzz_offload.c mqttip_transport mqttip_gso)

# Not a test: prints figures. The smoke test runs it for a few iterations so it keeps working.
add_executable(bench_transport bench/bench_transport.c)
target_link_libraries(bench_transport PRIVATE mqttip_transport)
add_test(NAME bench_transport_smoke COMMAND bench_transport 3)
set_tests_properties(bench_transport_smoke PROPERTIES LABELS unit)
