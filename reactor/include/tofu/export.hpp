#pragma once
/// @file
/// TOFU_API marks what the library exports. On Windows it is __declspec(dllexport) while tofu.dll
/// is built (TOFU_BUILDING_DLL), __declspec(dllimport) in a program that uses tofu.dll, and nothing
/// for the static library: a program linking the static library defines TOFU_STATIC (the CMake
/// target tofu::tofu does that for you). Elsewhere it is empty: a shared library on Linux exports
/// every symbol with default visibility.
#if defined(_WIN32) && !defined(TOFU_STATIC)
#if defined(TOFU_BUILDING_DLL)
#define TOFU_API __declspec(dllexport)
#else
#define TOFU_API __declspec(dllimport)
#endif
#else
#define TOFU_API
#endif
