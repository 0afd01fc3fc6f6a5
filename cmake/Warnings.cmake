add_library(spacehook_warnings INTERFACE)
target_compile_options(spacehook_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${SPACEHOOK_WERROR}>:-Werror>)

if(SPACEHOOK_SANITIZE)
  add_compile_options(-fsanitize=${SPACEHOOK_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${SPACEHOOK_SANITIZE})
endif()

# lld links several times faster than bfd on these 2-core machines.
find_program(LLD_PROGRAM ld.lld)
if(LLD_PROGRAM)
  add_link_options(-fuse-ld=lld)
endif()
