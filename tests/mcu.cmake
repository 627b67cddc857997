# The portable core must build for the ESP32-C3's ISA without warnings, and its per-peer state
# must fit the RAM budget that docs/PROTOCOL.md states.
find_program(RISCV_GCC riscv64-unknown-elf-gcc)
add_test(NAME mcu_build
	COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tools/mcu-build.sh ${CMAKE_SOURCE_DIR}/common
		${CMAKE_CURRENT_BINARY_DIR}/mcu ${CMAKE_CURRENT_SOURCE_DIR}/tools/mcu_ram_probe.c)
set_tests_properties(mcu_build PROPERTIES LABELS unit)
