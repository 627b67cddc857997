# The unit tests of common/ on the ESP32-C3's ISA: rv32imc/ilp32, bare metal with picolibc and
# semihosting, linked with libsodium and cJSON built from Debian's source packages, run under
# qemu-system-riscv32's virt machine (tools/rv32-unit.sh). rv32_build builds them once per run
# (the libraries once per build directory) and is the fixture of the others; a missing package
# makes them skip, naming it. Only in the plain build: the sanitizer and fuzz builds would run
# the same cross-built programs again.
if(MQTTIP_SANITIZE OR MQTTIP_FUZZ)
	return()
endif()

set(rv32_dir ${CMAKE_CURRENT_BINARY_DIR}/rv32)
# test_netaddr is not here: it checks the parser against the C library's inet_pton(), which a
# bare-metal libc does not have.
set(rv32_tests test_topic test_iphdr test_cert test_revocation test_noise test_replay
	test_keypair test_session test_batch test_handshake test_ratelimit test_legacy test_peer
	test_node)
set(rv32_noise_suite _25519_ChaChaPoly_SHA256)
set(rv32_runs ${rv32_tests} noise_vectors rv32_cycles)

add_test(NAME rv32_build
	COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tools/rv32-unit.sh build ${CMAKE_SOURCE_DIR}
		${MQTTIP_VECTORS} ${rv32_dir} ${rv32_runs})
set_tests_properties(rv32_build PROPERTIES LABELS unit FIXTURES_SETUP rv32 SKIP_RETURN_CODE 77
	TIMEOUT 900)

foreach(t ${rv32_tests})
	add_test(NAME rv32_${t}
		COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tools/rv32-unit.sh run ${rv32_dir} ${t})
endforeach()
# The cacophony vectors, as noise_vectors runs them on the host (the file is read through
# semihosting).
add_test(NAME rv32_noise_vectors
	COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tools/rv32-unit.sh run ${rv32_dir} noise_vectors
		${MQTTIP_VECTORS}/noise-cacophony-25519-chachapoly.json
		--require Noise_IK${rv32_noise_suite} --require Noise_IKpsk2${rv32_noise_suite}
		--require Noise_NNpsk0${rv32_noise_suite} --require Noise_XX${rv32_noise_suite})
# The instruction-count benchmark (bench/rv32_cycles.sh prints its figures): once, so it keeps
# working; it fails when a step fails or when instret does not count instructions.
add_test(NAME rv32_cycles_smoke
	COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tools/rv32-unit.sh run ${rv32_dir} rv32_cycles)
set_tests_properties(rv32_cycles_smoke PROPERTIES ENVIRONMENT "RV32_QEMU_OPTS=-icount shift=0")
list(TRANSFORM rv32_tests PREPEND rv32_)
set_tests_properties(${rv32_tests} rv32_noise_vectors rv32_cycles_smoke PROPERTIES LABELS unit
	FIXTURES_REQUIRED rv32 SKIP_RETURN_CODE 77 TIMEOUT 600)
