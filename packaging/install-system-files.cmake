# Installs the files whose contents name installed paths (the systemd units and the packaged
# config). Run by `cmake --install` (install(SCRIPT) in packaging/CMakeLists.txt), because only
# then is the prefix known: `cmake --install build --prefix /usr` must give units that start
# /usr/bin/hb-pulse and a config under /etc, whatever prefix the build was configured with.
# Given by the caller: HB_PACKAGING_DIR, HB_BINARY_DIR, HB_SYSTEMD_UNIT_DIR (empty: the default).

set(prefix "${CMAKE_INSTALL_PREFIX}")
# GNUInstallDirs' special cases: /usr keeps its config in /etc, /opt/X in /etc/opt/X.
if(prefix STREQUAL "/usr")
  set(CMAKE_INSTALL_FULL_SYSCONFDIR "/etc")
  set(unit_dir "/lib/systemd/system")  # Debian 12's systemdsystemunitdir (pkg-config systemd)
elseif(prefix MATCHES "^/opt/")
  set(CMAKE_INSTALL_FULL_SYSCONFDIR "/etc${prefix}")
  set(unit_dir "${prefix}/lib/systemd/system")
else()
  set(CMAKE_INSTALL_FULL_SYSCONFDIR "${prefix}/etc")
  set(unit_dir "${prefix}/lib/systemd/system")
endif()
if(HB_SYSTEMD_UNIT_DIR)
  set(unit_dir "${HB_SYSTEMD_UNIT_DIR}")
  if(NOT IS_ABSOLUTE "${unit_dir}")
    set(unit_dir "${prefix}/${unit_dir}")
  endif()
endif()
set(CMAKE_INSTALL_FULL_BINDIR "${prefix}/bin")
# The units keep the database where StateDirectory= makes their one writable folder, which is
# /var/lib/heartbeat whatever the prefix: the packaged config names it there too.
set(HB_STATE_DIR "/var/lib/heartbeat")
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

# The config is the operator's once installed: a second `cmake --install` (an upgrade by hand)
# leaves it as it is, as dpkg does with a changed conffile.
set(config "$ENV{DESTDIR}${CMAKE_INSTALL_FULL_SYSCONFDIR}/heartbeat/heartbeat.json")
if(EXISTS "${config}")
  message(STATUS "Kept (already there, not replaced): ${config}")
else()
  configure_file("${HB_PACKAGING_DIR}/heartbeat.json.in" "${out}/heartbeat.json" @ONLY)
  file(INSTALL "${out}/heartbeat.json" DESTINATION "${CMAKE_INSTALL_FULL_SYSCONFDIR}/heartbeat"
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
file(REMOVE_RECURSE "${out}")

# The folders the installation made take the installer's umask (CMake gives a destination's
# folders no mode of their own): under umask 077 a 0700 /etc/heartbeat would hide the config from
# the heartbeat user, and a .deb staged so would ship 0700 folders. Everyone may read and enter
# heartbeat's folders and the folders on their way; bits are only added, never taken.
set(folders "${CMAKE_INSTALL_FULL_BINDIR}" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/heartbeat" "${unit_dir}"
    "${prefix}/share/man/man1" "${prefix}/share/bash-completion/completions")
file(GLOB_RECURSE docs LIST_DIRECTORIES true "$ENV{DESTDIR}${CMAKE_INSTALL_FULL_DOCDIR}/*")
foreach(path IN LISTS docs)
  if(IS_DIRECTORY "${path}")
    string(LENGTH "$ENV{DESTDIR}" cut)
    string(SUBSTRING "${path}" ${cut} -1 path)
    list(APPEND folders "${path}")
  endif()
endforeach()
set(open_up)
foreach(folder IN LISTS folders)
  while(NOT folder STREQUAL "/" AND NOT folder STREQUAL "")
    if(IS_DIRECTORY "$ENV{DESTDIR}${folder}")
      list(APPEND open_up "$ENV{DESTDIR}${folder}")
    endif()
    get_filename_component(folder "${folder}" DIRECTORY)
  endwhile()
endforeach()
list(REMOVE_DUPLICATES open_up)
execute_process(COMMAND chmod go+rx ${open_up} RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "chmod go+rx on the installed folders failed")
endif()
