# losses_test: CE / NLL / QR / RQ against tools/reference/make_loss_fixtures.py (float64
# fixture in tests/data/loss_fixtures.txt), finite differences, and the paper's identities.
# include()d from tests/CMakeLists.txt; needs the targets ipm_losses and GTest::gtest_main.
include(GoogleTest)

add_executable(losses_test ${CMAKE_CURRENT_LIST_DIR}/losses_test.cc)
target_link_libraries(losses_test PRIVATE ipm_losses GTest::gtest_main)
if(TARGET ipm_warnings)
  target_link_libraries(losses_test PRIVATE ipm_warnings)
endif()
# tests/data; the list dir is tests/ whichever CMakeLists includes this file.
if(NOT DEFINED IPM_TEST_DATA_DIR)
  set(IPM_TEST_DATA_DIR ${CMAKE_CURRENT_LIST_DIR}/data)
endif()
target_compile_definitions(losses_test PRIVATE IPM_TEST_DATA_DIR="${IPM_TEST_DATA_DIR}")
gtest_discover_tests(losses_test DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "unit;losses")
ipm_use_torch_pch(losses_test)
