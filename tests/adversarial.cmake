# Adversarial layer (tests/adversarial/): a hostile broker, faults and load, in network-namespace
# labs (tests/integration/lib/lab.sh) with real mosquitto + plugin and real agents. Every test is
# labelled `adversarial`; the long soak and the long fuzz runs are scripts only (docs/SECURITY.md).
if(NOT TARGET mqttip OR NOT TARGET mqttip_plugin)
	return()
endif()
pkg_check_modules(ADV_MOSQUITTO IMPORTED_TARGET libmosquitto)
pkg_check_modules(ADV_CJSON IMPORTED_TARGET libcjson)
if(NOT ADV_MOSQUITTO_FOUND OR NOT ADV_CJSON_FOUND)
	return()
endif()
set(adv_dir ${CMAKE_CURRENT_SOURCE_DIR}/adversarial)

add_executable(jsonget adversarial/jsonget.c)
target_link_libraries(jsonget PRIVATE PkgConfig::ADV_CJSON)

# The hostile broker's client (record, replay, tamper, forge, flood).
add_executable(mitm adversarial/mitm.c)
target_link_libraries(mitm PRIVATE mqttip_handshake mqttip_cert PkgConfig::ADV_MOSQUITTO
	PkgConfig::SODIUM)

# A legitimate node that misbehaves after a real handshake (spoofed inner source, reordering),
# and a certificate forger with a CA key (expired / not yet valid entries).
find_package(Threads REQUIRED)
add_executable(roguenode adversarial/roguenode.c)
target_link_libraries(roguenode PRIVATE mqttip_handshake mqttip_transport mqttip_cert
	mqttip_topic mqttip_netaddr PkgConfig::ADV_MOSQUITTO PkgConfig::SODIUM Threads::Threads)

# Delay for labs on kernels without tc netem.
add_executable(delayrelay adversarial/delayrelay.c)
target_link_libraries(delayrelay PRIVATE Threads::Threads)

# The scripts. Each builds its own lab (unique names), so they may run in parallel; the flood,
# fault and load tests measure time and CPU and run alone (RUN_SERIAL).
set(adv_env "MQTTIP=$<TARGET_FILE:mqttip>" "MQTTIP_PLUGIN=$<TARGET_FILE:mqttip_plugin>"
	"JSONGET=$<TARGET_FILE:jsonget>" "MITM=$<TARGET_FILE:mitm>"
	"ROGUENODE=$<TARGET_FILE:roguenode>" "DELAYRELAY=$<TARGET_FILE:delayrelay>")
if(MQTTIP_BROKER_PRELOAD_ENV)
	list(APPEND adv_env ${MQTTIP_BROKER_PRELOAD_ENV} "ADV_SANITIZE=1")
endif()
mqttip_script_tests(adv ${adv_dir}/ adversarial "${adv_env}"
	attack_replay:120 attack_tamper:120 attack_directory:120 attack_rollback:120 attack_inner:120
	attack_flood:90:serial fault_broker:120:serial fault_link:90:serial load_soak:200:serial)
