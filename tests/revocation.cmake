# VPN revocation list (common/revocation.c): unit test and fuzz target.
mqttip_unit_test(test_revocation SOURCES unit/test_revocation.c LIBS mqttip_revocation)
mqttip_fuzz_target(fuzz_revocation fuzz/fuzz_revocation.c mqttip_revocation)
