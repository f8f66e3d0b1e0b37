// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;
import {Community} from "../Community.sol";
contract SmokeTest {
    function test_deploys() public {
        address[] memory f = new address[](1);
        f[0] = address(this);
        Community c = new Community("x", f, 50, 50, 3600, bytes32(0));
        require(c.memberCount() == 1);
    }
}
