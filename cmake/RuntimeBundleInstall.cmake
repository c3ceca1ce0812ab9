# The relocatable tree of a runtime-bundle build (cmake/RuntimeBundle.cmake):
#   bin/     auroraedge-server, auroraedge-cli (RPATH $ORIGIN/../lib, then LibTorch's folder)
#   lib/     the bundle libraries they load, nothing else
#   models/  the demo model and its sample images
# LibTorch is the machine's own: its folder is the RPATH's second entry when
# it is not a system folder; a tree moved to another machine gets LibTorch's
# libraries copied into lib/ (tests/bundle does) or through LD_LIBRARY_PATH.
get_filename_component(torch_libdir "${TORCH_LIBRARY}" DIRECTORY)
if(NOT torch_libdir IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
  set_property(TARGET auroraedge-server auroraedge-cli APPEND PROPERTY INSTALL_RPATH "${torch_libdir}")
endif()

install(TARGETS auroraedge-server auroraedge-cli RUNTIME DESTINATION bin)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/models/" DESTINATION models)
# The bundle libraries the programs load, directly or not. The resolver may
# find a library's dependency among the system's copies first (it looks in
# the system folders before DIRECTORIES), or both: what matters is the name,
# and every name the bundle has is installed from the bundle.
install(CODE "
  file(GET_RUNTIME_DEPENDENCIES
    EXECUTABLES \"$<TARGET_FILE:auroraedge-server>\" \"$<TARGET_FILE:auroraedge-cli>\"
    RESOLVED_DEPENDENCIES_VAR resolved
    UNRESOLVED_DEPENDENCIES_VAR unresolved
    CONFLICTING_DEPENDENCIES_PREFIX conflicting
    DIRECTORIES \"${AURORAEDGE_BUNDLE_LIBDIR}\")
  if(unresolved)
    message(FATAL_ERROR \"libraries found nowhere: \${unresolved}\")
  endif()
  foreach(library IN LISTS resolved conflicting_FILENAMES)
    get_filename_component(name \"\${library}\" NAME)
    if(EXISTS \"${AURORAEDGE_BUNDLE_LIBDIR}/\${name}\")
      file(INSTALL \"${AURORAEDGE_BUNDLE_LIBDIR}/\${name}\" DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib\"
           FOLLOW_SYMLINK_CHAIN)
    endif()
  endforeach()
")
