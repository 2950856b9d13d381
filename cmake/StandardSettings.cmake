# One settings target and one warnings target, linked PRIVATE by first-party targets only.
add_library(hb_standard_settings INTERFACE)
target_compile_features(hb_standard_settings INTERFACE cxx_std_20)
if(HB_SANITIZE)
  target_compile_options(hb_standard_settings INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(hb_standard_settings INTERFACE -fsanitize=address,undefined)
endif()

# Hardening as Debian's dpkg-buildflags gives its packages (hardening=+all): stack protector,
# fortified libc calls, a read-only GOT bound at start. GCC 12 on Debian builds PIE already.
# Fortify needs optimization (it warns, so fails under -Werror, in Debug builds) and gets in
# AddressSanitizer's way (its checks replace the ones ASan would report), so neither has it.
target_compile_options(hb_standard_settings INTERFACE -fstack-protector-strong)
if(NOT HB_SANITIZE)
  target_compile_options(hb_standard_settings INTERFACE $<$<NOT:$<CONFIG:Debug>>:-D_FORTIFY_SOURCE=2>)
endif()
target_link_options(hb_standard_settings INTERFACE LINKER:-z,relro LINKER:-z,now)

add_library(hb_standard_warnings INTERFACE)
target_compile_options(hb_standard_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough)
if(HB_WERROR)
  target_compile_options(hb_standard_warnings INTERFACE -Werror)
endif()
