#pragma once
// Loopback TCP helpers for the Windows primitive tests.
#include "platform/windows/winsock.hpp"

namespace tofu::test::win {

using tofu::platform::win::UniqueSocket;

// A listening socket on 127.0.0.1 with an OS-chosen port.
UniqueSocket listen_loopback(unsigned short* port_out);
// A blocking client connected to 127.0.0.1:port.
UniqueSocket connect_loopback(unsigned short port);

}  // namespace tofu::test::win
