# How spacehook installs (`cmake --install`) and packs (`cpack -G DEB`, run by scripts/package): the
# layout of a Debian service, files in packaging/. Paths the unit and the docs name are absolute
# (/etc/spacehook, /lib/systemd/system); the rest follows CMAKE_INSTALL_PREFIX (/usr for the package).
include(GNUInstallDirs)

set(SPACEHOOK_PACKAGING_DIR "${PROJECT_SOURCE_DIR}/packaging")
set(SPACEHOOK_PACKAGING_OUT "${PROJECT_BINARY_DIR}/packaging")
set(SPACEHOOK_DOC_DIR "${CMAKE_INSTALL_DATAROOTDIR}/doc/spacehook")

# The changelog entry and the man page's date: the commit the tree was configured at (reproducible:
# the same commit gives the same package).
execute_process(COMMAND git -C "${PROJECT_SOURCE_DIR}" log -1 --format=%h OUTPUT_VARIABLE SPACEHOOK_CHANGELOG_COMMIT
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
execute_process(COMMAND git -C "${PROJECT_SOURCE_DIR}" log -1 --format=%aD OUTPUT_VARIABLE SPACEHOOK_CHANGELOG_DATE
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
execute_process(COMMAND git -C "${PROJECT_SOURCE_DIR}" log -1 --format=%as OUTPUT_VARIABLE SPACEHOOK_MAN_DATE
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT SPACEHOOK_CHANGELOG_COMMIT)
  set(SPACEHOOK_CHANGELOG_COMMIT "unknown")
  string(TIMESTAMP SPACEHOOK_CHANGELOG_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
  string(TIMESTAMP SPACEHOOK_MAN_DATE "%Y-%m-%d" UTC)
endif()

configure_file("${SPACEHOOK_PACKAGING_DIR}/spacehook.service.in" "${SPACEHOOK_PACKAGING_OUT}/spacehook.service" @ONLY)
configure_file("${SPACEHOOK_PACKAGING_DIR}/changelog.in" "${SPACEHOOK_PACKAGING_OUT}/changelog" @ONLY)
file(READ "${SPACEHOOK_PACKAGING_DIR}/spacehook.1" SPACEHOOK_MAN_TEXT)
string(REPLACE "@VERSION@" "${PROJECT_VERSION}" SPACEHOOK_MAN_TEXT "${SPACEHOOK_MAN_TEXT}")
string(REPLACE "@DATE@" "${SPACEHOOK_MAN_DATE}" SPACEHOOK_MAN_TEXT "${SPACEHOOK_MAN_TEXT}")
file(WRITE "${SPACEHOOK_PACKAGING_OUT}/spacehook.1" "${SPACEHOOK_MAN_TEXT}")

# Debian wants man pages and changelogs gzip'd -9 without a time stamp (-n).
find_program(GZIP_PROGRAM gzip REQUIRED)
foreach(file spacehook.1 changelog)
  add_custom_command(OUTPUT "${SPACEHOOK_PACKAGING_OUT}/${file}.gz"
                     COMMAND "${GZIP_PROGRAM}" -9n -c "${SPACEHOOK_PACKAGING_OUT}/${file}" > "${SPACEHOOK_PACKAGING_OUT}/${file}.gz"
                     DEPENDS "${SPACEHOOK_PACKAGING_OUT}/${file}" VERBATIM)
endforeach()
add_custom_target(spacehook_packaging_files ALL
                  DEPENDS "${SPACEHOOK_PACKAGING_OUT}/spacehook.1.gz" "${SPACEHOOK_PACKAGING_OUT}/changelog.gz")

install(TARGETS spacehook RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(FILES "${SPACEHOOK_PACKAGING_OUT}/spacehook.service" DESTINATION /lib/systemd/system)
install(FILES "${SPACEHOOK_PACKAGING_DIR}/spacehook.sysusers" DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/sysusers.d"
        RENAME spacehook.conf)
install(FILES "${SPACEHOOK_PACKAGING_DIR}/spacehook.yaml" DESTINATION /etc/spacehook)
# Secrets: not world-readable even before postinst gives the group to spacehook.
install(FILES "${SPACEHOOK_PACKAGING_DIR}/env" DESTINATION /etc/spacehook
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(DIRECTORY DESTINATION /etc/spacehook/rules.d)
install(FILES "${SPACEHOOK_PACKAGING_OUT}/spacehook.1.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
install(FILES "${SPACEHOOK_PACKAGING_DIR}/spacehook.bash-completion"
        DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions" RENAME spacehook)
install(FILES "${SPACEHOOK_PACKAGING_DIR}/lintian-overrides" DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides"
        RENAME spacehook)
install(FILES "${SPACEHOOK_PACKAGING_DIR}/copyright" "${SPACEHOOK_PACKAGING_OUT}/changelog.gz"
        DESTINATION "${SPACEHOOK_DOC_DIR}")
# The user's documentation (docs/*.md but the developers' page).
file(GLOB SPACEHOOK_DOCS "${PROJECT_SOURCE_DIR}/docs/*.md")
list(FILTER SPACEHOOK_DOCS EXCLUDE REGEX "/DEVELOPING\\.md$")
install(FILES README.md ${SPACEHOOK_DOCS} DESTINATION "${SPACEHOOK_DOC_DIR}")
# The five founding automations, not enabled: copy one to /etc/spacehook/rules.d to use it.
file(GLOB SPACEHOOK_EXAMPLES "${PROJECT_SOURCE_DIR}/examples/*.yaml")
install(FILES ${SPACEHOOK_EXAMPLES} examples/README.md DESTINATION "${SPACEHOOK_DOC_DIR}/examples")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME spacehook)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "spacehook maintainers <maintainers@users.noreply.b-seed-5c58f934.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "reliable automations for ONLYOFFICE DocSpace webhooks")
# The summary above is the first line; CPack indents these lines and turns the empty one into " .".
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "spacehook receives the webhooks a DocSpace portal sends, verifies and
journals each delivery durably before acknowledging it, and runs the steps of
YAML rules (create rooms and folders, copy and move files, set access, mail,
chat, HTTP) through the portal's REST API: once, in order, through crashes,
outages and repeated deliveries.

This package runs it as the systemd service spacehook.service, with its
configuration in /etc/spacehook and its journal in /var/lib/spacehook.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
# Library dependencies from dpkg-shlibdeps; systemd for the unit, the user (systemd-sysusers) and
# deb-systemd-invoke's service management.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "sqlite3")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${SPACEHOOK_PACKAGING_DIR}/conffiles;${SPACEHOOK_PACKAGING_DIR}/postinst;${SPACEHOOK_PACKAGING_DIR}/prerm;${SPACEHOOK_PACKAGING_DIR}/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY "${PROJECT_BINARY_DIR}")
include(CPack)
