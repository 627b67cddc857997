# Noise (common/noise.c): the cacophony vectors, a corrupted vector the runner must reject, unit
# tests of the state machines and a fuzz target for the IKpsk2 responder.

pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)

add_executable(noise_vectors ${CMAKE_CURRENT_SOURCE_DIR}/tools/noise_vectors.c)
target_link_libraries(noise_vectors PRIVATE mqttip_noise PkgConfig::CJSON)

set(noise_suite _25519_ChaChaPoly_SHA256)
add_test(NAME noise_vectors
	COMMAND noise_vectors ${MQTTIP_VECTORS}/noise-cacophony-25519-chachapoly.json
		--require Noise_IK${noise_suite} --require Noise_IKpsk2${noise_suite}
		--require Noise_NNpsk0${noise_suite} --require Noise_XX${noise_suite})
set_tests_properties(noise_vectors PROPERTIES LABELS unit)

# One vector with a flipped ciphertext byte: proves the runner can fail.
add_test(NAME noise_vectors_corrupt
	COMMAND noise_vectors ${CMAKE_CURRENT_SOURCE_DIR}/unit/fixtures/noise-corrupt-vector.json)
set_tests_properties(noise_vectors_corrupt PROPERTIES LABELS unit WILL_FAIL TRUE)

mqttip_unit_test(test_noise SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_noise.c
	LIBS mqttip_noise)

mqttip_fuzz_target(fuzz_noise ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_noise.c mqttip_noise)
