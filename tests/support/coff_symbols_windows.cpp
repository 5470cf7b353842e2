// Parses the PE file of this executable: the section table and the COFF symbol table after it.
#include <windows.h>

#include <cxxabi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <vector>

#include "support/coff_symbols.hpp"

namespace tofu::test {
namespace {

struct Symbol {
  std::uint32_t rva;
  std::uint32_t section_end;  // first offset past the symbol's section
  std::string name;
};

template <class T>
bool read_at(const std::vector<char>& file, std::size_t offset, T& out) {
  if (offset + sizeof(T) > file.size()) return false;
  std::memcpy(&out, file.data() + offset, sizeof(T));
  return true;
}

std::string demangle(const std::string& name) {
  int status = 0;
  char* out = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
  if (out == nullptr) return name;
  std::string s(out);
  std::free(out);
  return s;
}

// Function symbols of this executable sorted by address (empty on any parse failure).
std::vector<Symbol> load_symbols() {
  std::vector<Symbol> symbols;
  wchar_t path[MAX_PATH];
  const DWORD n = GetModuleFileNameW(nullptr, path, MAX_PATH);
  if (n == 0 || n >= MAX_PATH) return symbols;
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::uint32_t pe = 0;
  std::uint32_t signature = 0;
  IMAGE_FILE_HEADER header{};
  if (!read_at(file, 0x3c, pe) || !read_at(file, pe, signature) || signature != IMAGE_NT_SIGNATURE ||
      !read_at(file, pe + 4, header) || header.PointerToSymbolTable == 0) {
    return symbols;
  }
  const std::size_t section_table = pe + 4 + sizeof(IMAGE_FILE_HEADER) + header.SizeOfOptionalHeader;
  std::vector<IMAGE_SECTION_HEADER> sections(header.NumberOfSections);
  for (std::size_t i = 0; i < sections.size(); ++i) {
    if (!read_at(file, section_table + i * sizeof(IMAGE_SECTION_HEADER), sections[i])) return symbols;
  }
  constexpr std::size_t kRecord = 18;  // IMAGE_SIZEOF_SYMBOL
  const std::size_t strings = header.PointerToSymbolTable + std::size_t{header.NumberOfSymbols} * kRecord;
  for (std::size_t i = 0; i < header.NumberOfSymbols; ++i) {
    const std::size_t at = header.PointerToSymbolTable + i * kRecord;
    char short_name[8];
    std::uint32_t value = 0;
    std::int16_t section = 0;
    std::uint16_t type = 0;
    std::uint8_t aux = 0;
    if (at + kRecord > file.size()) break;
    std::memcpy(short_name, file.data() + at, 8);
    read_at(file, at + 8, value);
    read_at(file, at + 12, section);
    read_at(file, at + 14, type);
    read_at(file, at + 17, aux);
    i += aux;
    if ((type & 0xf0) != 0x20 || section <= 0 || section > static_cast<int>(sections.size())) continue;  // functions only
    std::string name;
    std::uint32_t zeroes = 0;
    std::memcpy(&zeroes, short_name, 4);
    if (zeroes == 0) {
      std::uint32_t offset = 0;
      std::memcpy(&offset, short_name + 4, 4);
      const std::size_t from = strings + offset;
      if (from >= file.size()) continue;
      name.assign(file.data() + from, strnlen(file.data() + from, file.size() - from));
    } else {
      name.assign(short_name, strnlen(short_name, 8));
    }
    const IMAGE_SECTION_HEADER& sh = sections[static_cast<std::size_t>(section - 1)];
    symbols.push_back({sh.VirtualAddress + value, sh.VirtualAddress + sh.Misc.VirtualSize, std::move(name)});
  }
  std::sort(symbols.begin(), symbols.end(), [](const Symbol& a, const Symbol& b) { return a.rva < b.rva; });
  return symbols;
}

const std::vector<Symbol>& symbols() {
  static std::once_flag once;
  static std::vector<Symbol> table;
  std::call_once(once, [] { table = load_symbols(); });
  return table;
}

}  // namespace

std::string symbol_for_offset(std::uintptr_t offset) {
  const std::vector<Symbol>& table = symbols();
  auto it = std::upper_bound(table.begin(), table.end(), offset,
                             [](std::uintptr_t o, const Symbol& s) { return o < s.rva; });
  if (it == table.begin()) return {};
  --it;
  if (offset >= it->section_end) return {};
  char delta[32];
  std::snprintf(delta, sizeof delta, "+0x%llx", static_cast<unsigned long long>(offset - it->rva));
  return demangle(it->name) + delta;
}

std::string symbol_for_address(const void* address) {
  const auto base = reinterpret_cast<std::uintptr_t>(GetModuleHandleW(nullptr));
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  if (a < base) return {};
  return symbol_for_offset(a - base);
}

}  // namespace tofu::test
