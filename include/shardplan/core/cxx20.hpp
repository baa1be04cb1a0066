#pragma once
// shardplan is C++20. Every public header includes this one before anything else, so that a TU compiled as C++17
// (or older) fails with this one line instead of pages of errors from deep inside the library. MSVC reports the
// language in _MSVC_LANG (its __cplusplus stays 199711L unless /Zc:__cplusplus).
#if defined(_MSVC_LANG)
#if _MSVC_LANG < 202002L
#error "shardplan needs C++20 (-std=c++20 or later)"
#endif
#elif __cplusplus < 202002L
#error "shardplan needs C++20 (-std=c++20 or later)"
#endif
