# One settings target and one warnings target, linked PRIVATE by first-party targets only.
add_library(hb_standard_settings INTERFACE)
target_compile_features(hb_standard_settings INTERFACE cxx_std_20)
if(HB_SANITIZE)
  target_compile_options(hb_standard_settings INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(hb_standard_settings INTERFACE -fsanitize=address,undefined)
endif()

add_library(hb_standard_warnings INTERFACE)
target_compile_options(hb_standard_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough)
if(HB_WERROR)
  target_compile_options(hb_standard_warnings INTERFACE -Werror)
endif()
