# What `cmake --install` installs, and the Debian package CPack makes of it (`make deb`,
# docs/packaging.md): the server, its web client, its unit, its config file and maintainer
# scripts. Only the parley executable has an install rule: the tests, the testbed and the
# benchmarks stay in the build folder.
include(GNUInstallDirs)

set(parley_web ${PROJECT_SOURCE_DIR}/web)
set(parley_packaging ${PROJECT_SOURCE_DIR}/packaging)

install(TARGETS parley RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# share/parley/web beside bin/ is where an installed parley finds it by default (webRootFor in
# src/app/Config.hpp). The client's own files and the socket.io-client bundle that
# scripts/install-deps copies into web/vendor/, with the admin UI's page; not web/'s npm files.
install(FILES ${parley_web}/index.html ${parley_web}/app.js ${parley_web}/style.css
        DESTINATION ${CMAKE_INSTALL_DATADIR}/parley/web)
install(FILES ${parley_web}/vendor/socket.io.min.js ${parley_web}/vendor/socket.io.min.js.map
              ${parley_web}/vendor/socket.io.js ${parley_web}/vendor/socket.io.js.map
        DESTINATION ${CMAKE_INSTALL_DATADIR}/parley/web/vendor)
# The socket.io admin UI's page (served on /admin/ when --admin-password is set).
install(DIRECTORY ${parley_web}/vendor/admin DESTINATION ${CMAKE_INSTALL_DATADIR}/parley/web/vendor)
# Where Debian 12 puts both, whatever the prefix (CPack's DEB generator stages absolute
# destinations too).
install(FILES ${parley_packaging}/parley.service DESTINATION /lib/systemd/system)
install(FILES ${parley_packaging}/parley.toml DESTINATION /etc/parley)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME parley)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR Parley)
set(CPACK_PACKAGE_CONTACT "Parley maintainers <parley@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "realtime chat server speaking the Socket.IO protocol")
set(CPACK_PACKAGE_DESCRIPTION
    "Parley is a chat server for the stock socket.io-client: chats, messages, typing, presence\n"
    "and read receipts over Engine.IO/Socket.IO, with a REST API and a web client. It stores\n"
    "its data in SQLite by default, or in PostgreSQL with Redis for a cluster.\n"
    "This package runs it as the systemd service parley, configured in /etc/parley/parley.toml.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR})
# The release preset builds RelWithDebInfo: the package carries the binary without its debug
# information.
set(CPACK_STRIP_FILES ON)

# parley_<version>_amd64.deb, as Debian names packages.
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries' packages, found by dpkg-shlibdeps from the binary; adduser for postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${parley_packaging}/debian/postinst ${parley_packaging}/debian/prerm ${parley_packaging}/debian/postrm
    ${parley_packaging}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
