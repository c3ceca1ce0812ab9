# auroraedge_project_options(<target>): warnings as errors for the project's
# own code. Third-party headers are included as SYSTEM so they do not trip it.
function(auroraedge_project_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-unused-parameter)
endfunction()

# auroraedge_add_parts(<dir>...): adds each sub-folder that has a
# CMakeLists.txt, so that components can land one at a time.
macro(auroraedge_add_parts)
  foreach(part ${ARGN})
    if(EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/${part}/CMakeLists.txt")
      add_subdirectory(${part})
    endif()
  endforeach()
endmacro()
