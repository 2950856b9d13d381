# Installs the files whose contents name installed paths (the systemd units and the packaged
# config). Run by `cmake --install` (install(SCRIPT) in packaging/CMakeLists.txt), because only
# then is the prefix known: `cmake --install build --prefix /usr` must give units that start
# /usr/bin/hb-pulse and a config under /etc, whatever prefix the build was configured with.
# Given by the caller: HB_PACKAGING_DIR, HB_BINARY_DIR, HB_SYSTEMD_UNIT_DIR (empty: the default).

set(prefix "${CMAKE_INSTALL_PREFIX}")
# GNUInstallDirs' special cases: /usr keeps its config in /etc and its state in /var, /opt/X in
# /etc/opt/X and /var/opt/X.
if(prefix STREQUAL "/usr")
  set(CMAKE_INSTALL_FULL_SYSCONFDIR "/etc")
  set(CMAKE_INSTALL_FULL_LOCALSTATEDIR "/var")
  set(unit_dir "/lib/systemd/system")  # Debian 12's systemdsystemunitdir (pkg-config systemd)
elseif(prefix MATCHES "^/opt/")
  set(CMAKE_INSTALL_FULL_SYSCONFDIR "/etc${prefix}")
  set(CMAKE_INSTALL_FULL_LOCALSTATEDIR "/var${prefix}")
  set(unit_dir "${prefix}/lib/systemd/system")
else()
  set(CMAKE_INSTALL_FULL_SYSCONFDIR "${prefix}/etc")
  set(CMAKE_INSTALL_FULL_LOCALSTATEDIR "${prefix}/var")
  set(unit_dir "${prefix}/lib/systemd/system")
endif()
if(HB_SYSTEMD_UNIT_DIR)
  set(unit_dir "${HB_SYSTEMD_UNIT_DIR}")
  if(NOT IS_ABSOLUTE "${unit_dir}")
    set(unit_dir "${prefix}/${unit_dir}")
  endif()
endif()
set(CMAKE_INSTALL_FULL_BINDIR "${prefix}/bin")
set(CMAKE_INSTALL_FULL_DOCDIR "${prefix}/share/doc/heartbeat")

# The sandbox every unit shares, written once.
file(READ "${HB_PACKAGING_DIR}/systemd/hardening.conf" HB_UNIT_HARDENING)
string(STRIP "${HB_UNIT_HARDENING}" HB_UNIT_HARDENING)

# A folder of this run's own: `cmake --install` and cpack may run at once (the tests do).
string(RANDOM LENGTH 12 run)
set(out "${HB_BINARY_DIR}/installed/${run}")
foreach(unit hb-pulse.service hb-pulse.timer hb-recover.service hb-recover.timer
             hb-notify.service hb-notify.timer)
  configure_file("${HB_PACKAGING_DIR}/systemd/${unit}.in" "${out}/${unit}" @ONLY)
  file(INSTALL "${out}/${unit}" DESTINATION "${unit_dir}"
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endforeach()

configure_file("${HB_PACKAGING_DIR}/heartbeat.json.in" "${out}/heartbeat.json" @ONLY)
file(INSTALL "${out}/heartbeat.json" DESTINATION "${CMAKE_INSTALL_FULL_SYSCONFDIR}/heartbeat"
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(REMOVE_RECURSE "${out}")
