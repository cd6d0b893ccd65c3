// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

/// Which measurements and TCB statuses the registry admits. Additions wait `delay` seconds
/// after being proposed (so users can leave before a new image is trusted); removals are
/// immediate (a bad image must be revoked at once).
contract MeasurementPolicy is Ownable2Step {
    uint64 public immutable delay;

    mapping(bytes32 measurementsDigest => bool) public measurementAllowed;
    mapping(uint8 tcbStatus => bool) public tcbStatusAllowed;
    /// Pending additions: key => earliest activation time. Keys: keccak256("m", digest), keccak256("t", status).
    mapping(bytes32 key => uint64) public pendingSince;

    event MeasurementProposed(bytes32 indexed digest, uint64 eta);
    event MeasurementAdded(bytes32 indexed digest);
    event MeasurementRemoved(bytes32 indexed digest);
    event TcbStatusProposed(uint8 indexed status, uint64 eta);
    event TcbStatusAdded(uint8 indexed status);
    event TcbStatusRemoved(uint8 indexed status);

    error NotProposed();
    error TooEarly(uint64 eta);

    /// `initialMeasurements` and UpToDate (0) are allowed at deployment; everything later waits.
    constructor(address owner_, uint64 delay_, bytes32[] memory initialMeasurements) Ownable(owner_) {
        delay = delay_;
        for (uint256 i = 0; i < initialMeasurements.length; i++) {
            measurementAllowed[initialMeasurements[i]] = true;
            emit MeasurementAdded(initialMeasurements[i]);
        }
        tcbStatusAllowed[0] = true;
        emit TcbStatusAdded(0);
    }

    function isAllowed(bytes32 measurementsDigest, uint8 tcbStatus) external view returns (bool) {
        return measurementAllowed[measurementsDigest] && tcbStatusAllowed[tcbStatus];
    }

    function proposeMeasurement(bytes32 digest) external onlyOwner {
        uint64 eta = uint64(block.timestamp) + delay;
        pendingSince[_mKey(digest)] = eta;
        emit MeasurementProposed(digest, eta);
    }

    function activateMeasurement(bytes32 digest) external {
        _ripe(_mKey(digest));
        measurementAllowed[digest] = true;
        emit MeasurementAdded(digest);
    }

    function removeMeasurement(bytes32 digest) external onlyOwner {
        delete pendingSince[_mKey(digest)];
        measurementAllowed[digest] = false;
        emit MeasurementRemoved(digest);
    }

    function proposeTcbStatus(uint8 status) external onlyOwner {
        uint64 eta = uint64(block.timestamp) + delay;
        pendingSince[_tKey(status)] = eta;
        emit TcbStatusProposed(status, eta);
    }

    function activateTcbStatus(uint8 status) external {
        _ripe(_tKey(status));
        tcbStatusAllowed[status] = true;
        emit TcbStatusAdded(status);
    }

    function removeTcbStatus(uint8 status) external onlyOwner {
        delete pendingSince[_tKey(status)];
        tcbStatusAllowed[status] = false;
        emit TcbStatusRemoved(status);
    }

    /// Anyone may activate a proposal once its delay has passed: the owner cannot sit on it
    /// silently, and activation is a public, predictable event.
    function _ripe(bytes32 key) private {
        uint64 eta = pendingSince[key];
        if (eta == 0) revert NotProposed();
        if (block.timestamp < eta) revert TooEarly(eta);
        delete pendingSince[key];
    }

    function _mKey(bytes32 digest) private pure returns (bytes32) {
        return keccak256(abi.encode("m", digest));
    }

    function _tKey(uint8 status) private pure returns (bytes32) {
        return keccak256(abi.encode("t", status));
    }
}
