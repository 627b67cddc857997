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

# The same vectors with one ciphertext digit changed (made at test time): proves the runner can fail.
add_test(NAME noise_vectors_corrupt
	COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tools/noise-vectors-corrupt.sh $<TARGET_FILE:noise_vectors>
		${MQTTIP_VECTORS}/noise-cacophony-25519-chachapoly.json)
set_tests_properties(noise_vectors_corrupt PROPERTIES LABELS unit)

mqttip_unit_test(test_noise SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_noise.c
	LIBS mqttip_noise)

mqttip_fuzz_target(fuzz_noise ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_noise.c mqttip_noise)
