# MQTT benchmark tools, driven by tests/bench/mqtt_run; include()d from tests/bench/CMakeLists.txt.
add_executable(mqtt_load mqtt_load.c)
target_link_libraries(mqtt_load PRIVATE Threads::Threads)
add_executable(mqtt_idle mqtt_idle.c)
add_executable(mqtt_direct mqtt_direct.c)
target_link_libraries(mqtt_direct PRIVATE PkgConfig::RDKAFKA)
