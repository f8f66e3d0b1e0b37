// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice The few forge cheatcodes the contract tests use. forge-std is not a dependency (npm has
/// only unofficial copies of it), and these declarations are all of it that the tests need; forge
/// answers them at the fixed cheatcode address below.
interface Vm {
    /// @dev A log recorded between recordLogs and getRecordedLogs, as forge-std's Vm.Log.
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function prank(address sender) external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory);
    function warp(uint256 timestamp) external;
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function addr(uint256 privateKey) external pure returns (address);
}

/// @dev address(uint160(uint256(keccak256("hevm cheat code")))), as in forge-std.
Vm constant VM = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

/// @notice forge's invariant-testing hooks, declared the way forge-std's StdInvariant declares
/// them: forge calls these public views on the test contract to learn what to fuzz.
struct FuzzSelector {
    address addr;
    bytes4[] selectors;
}
