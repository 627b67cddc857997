mqttip_unit_test(test_peer SOURCES unit/test_peer.c LIBS mqttip_peer)
