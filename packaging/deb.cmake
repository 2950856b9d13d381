# The Debian package, built by CPack from the install rules (scripts/package: `cpack -G DEB` in
# the build folder). Included by the top CMakeLists.txt after every install() rule.

# The package's version is the project's, and its changelog must say so (lintian reads it).
file(STRINGS ${CMAKE_CURRENT_LIST_DIR}/debian/changelog HB_CHANGELOG_TOP LIMIT_COUNT 1)
if(NOT HB_CHANGELOG_TOP MATCHES "^heartbeat \\(${PROJECT_VERSION}\\) ")
  message(FATAL_ERROR "packaging/debian/changelog starts \"${HB_CHANGELOG_TOP}\": add an entry "
                      "for version ${PROJECT_VERSION} (the project's)")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME heartbeat)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "heartbeat developers <heartbeat@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "keeps services, agents and cron jobs alive without a human watching")
# The first line of the Debian description is the summary above; CPack indents the rest.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Small single-shot tools, run by systemd timers or cron: hb-pulse runs due
health checks (HTTP, TCP, commands, Nagios plugins) and scheduled tasks,
hb-beat records push heartbeats and wraps jobs, hb-notify delivers alerts
through an outbox that never drops one, hb-recover repairs unhealthy targets
and escalates what it cannot repair, hb-status shows where everything
stands (for people, Nagios, Prometheus and CI) and hb-diagnose explains
failures. State lives in SQLite, or in PostgreSQL for fleets.")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# The tree is made as `cmake --install --prefix /usr` makes it: the units and the config name
# /usr/bin and /etc (packaging/install-system-files.cmake), and those land in /lib and /etc.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# Depends: what the tools link (dpkg-shlibdeps finds those) and what they open at run time,
# which it cannot see: libcurl (lib/util/curl_api.cpp dlopens libcurl.so.4, for HTTP checks and
# notifications) and adduser for postinst. libpq (the PostgreSQL backend, dlopened on the first
# postgresql:// database) only for fleets; the Nagios plugins only for checks that run them.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4 (>= 7.74), adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libpq5, monitoring-plugins-basic")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/debian/conffiles ${CMAKE_CURRENT_LIST_DIR}/debian/postinst
    ${CMAKE_CURRENT_LIST_DIR}/debian/prerm ${CMAKE_CURRENT_LIST_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
