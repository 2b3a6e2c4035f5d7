# Install rules for what is not a build target (example configuration, systemd unit, docs) and
# the Debian package: `cpack -G DEB` in the build directory (docs/OPERATIONS.md, Packaging).
# The package installs under CMAKE_INSTALL_PREFIX, the prefix inletd was compiled for (its
# default module directory is <prefix>/lib/inlet/modules): configure with
# -DCMAKE_INSTALL_PREFIX=/usr for a system package. Configuration goes to INLET_CONFIG_DIR.
set(INLET_CONFIG_DIR "/etc/inlet" CACHE PATH "Where the package puts the example configuration")
set(_src ${PROJECT_SOURCE_DIR})
set(_out ${CMAKE_BINARY_DIR}/package)

# /etc/inlet: the main file, the HTTP module and the shipped schemas; no tenant (the demo tenant's
# tokens are published: it goes to the examples, never to /etc).
install(FILES ${_src}/inletd.yaml DESTINATION ${INLET_CONFIG_DIR})
install(FILES ${_src}/conf.d/http.yaml DESTINATION ${INLET_CONFIG_DIR}/conf.d)
install(DIRECTORY ${_src}/schemas/ DESTINATION ${INLET_CONFIG_DIR}/schemas)

# The quickstart's whole conf.d (every module, the demo tenant) and the docs.
install(DIRECTORY ${_src}/conf.d/ DESTINATION share/doc/inlet/examples/conf.d)
install(FILES ${_src}/README.md DESTINATION share/doc/inlet)
file(GLOB _docs CONFIGURE_DEPENDS ${_src}/docs/*.md)
install(FILES ${_docs} DESTINATION share/doc/inlet)
install(DIRECTORY ${_src}/docs/images DESTINATION share/doc/inlet OPTIONAL)

# The systemd unit, with the paths of this prefix instead of the /usr/local of contrib/.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_src}/contrib/inletd.service)
file(READ ${_src}/contrib/inletd.service _unit)
string(REPLACE "/usr/local/" "${CMAKE_INSTALL_PREFIX}/" _unit "${_unit}")
string(REPLACE "/etc/inlet" "${INLET_CONFIG_DIR}" _unit "${_unit}")
file(WRITE ${_out}/inletd.service "${_unit}")
install(FILES ${_out}/inletd.service DESTINATION lib/systemd/system)

# Debian maintainer scripts: the inlet system user the unit runs as; the configuration files.
file(WRITE ${_out}/conffiles "${INLET_CONFIG_DIR}/inletd.yaml\n${INLET_CONFIG_DIR}/conf.d/http.yaml\n")
configure_file(${CMAKE_CURRENT_LIST_DIR}/postinst.in ${_out}/scripts/postinst @ONLY)
file(COPY ${_out}/scripts/postinst DESTINATION ${_out} FILE_PERMISSIONS OWNER_READ OWNER_WRITE
     OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "inlet")
set(CPACK_PACKAGE_VENDOR "Inlet")
set(CPACK_PACKAGE_CONTACT "Inlet maintainers <inlet@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "IoT ingestion proxy: HTTP, MQTT, CoAP, binary and Teltonika devices to Apache Kafka")
set(CPACK_PACKAGE_DESCRIPTION
    "inletd accepts device events over HTTP/1.1 and HTTP/2, MQTT 3.1.1 and 5, CoAP/DTLS, its own binary protocol and Teltonika, validates them against JSON schemas and produces them to Kafka; a device gets its acknowledgement only once Kafka has the event. Includes the protocol modules, the module SDK headers, the systemd unit, inlet-token, inlet-send and inlet-sim.")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3 (>= 3.11)")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${_out}/conffiles;${_out}/postinst")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
