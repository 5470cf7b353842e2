#pragma once
// Windows only: names for code addresses of this executable, read from its own COFF symbol table.
// The windows preset links without debug information (D-25), so no debugger can name our frames;
// mingw's linker keeps the symbol table, and that is enough for "function+offset".
#include <cstdint>
#include <string>

namespace tofu::test {

// "demangled::function+0x1c" for an offset from this executable's load address, or "" when the
// executable has no symbol table or the offset is outside its code.
std::string symbol_for_offset(std::uintptr_t offset);

// The same for an address in this process ("" when it is not in this executable).
std::string symbol_for_address(const void* address);

}  // namespace tofu::test
